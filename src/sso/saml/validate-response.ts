import { SAML, SamlStatusError, ValidateInResponseTo } from "@node-saml/node-saml";
import { type AssertionAttributes, readClaims } from "./assertion-claims.js";
import { SamlCheckError } from "./checks.js";
import { decodePostMessage, type MessageLimits, parseXml } from "./inbound-message.js";
import {
  checkSignatureAlgorithms,
  decryptAssertion,
  refuseCommentsAndProcessingInstructions,
  refuseDuplicateIds,
  theOneAssertion,
} from "./response-document.js";
import type { ServiceProvider } from "./service-provider.js";
import type { SamlSettings } from "./settings.js";
import { attribute, childElements, firstChild, NAMEID_FORMAT, NS, text } from "./xml.js";

/** What a verified SAML assertion says, in the shape every protocol's sign-in ends with. */
export interface SamlAssertion {
  /** The NameID value: the IdP's identifier for the user. */
  subject: string;
  nameIdFormat: string | undefined;
  email: string | undefined;
  /** The IdP asserts the address; the domain policy decides whether this connection may. */
  emailVerified: boolean;
  name: string | undefined;
  givenName: string | undefined;
  familyName: string | undefined;
  groups: string[];
  /** Every attribute as sent, under its Name (and FriendlyName), for a test sign-in to show. */
  attributesSent: Record<string, string[]>;
  /** The IdP's session handle, for a LogoutRequest. */
  sessionIndex: string | undefined;
  issuer: string;
  assertionId: string;
  /** Until when the assertion ID must be remembered to refuse a replay. */
  notOnOrAfter: Date;
  /** The request this answers; undefined for an IdP-initiated sign-in. */
  inResponseTo: string | undefined;
}

export interface ValidateResponseInput {
  /** The `SAMLResponse` form field as posted to the ACS URL. */
  samlResponse: unknown;
  settings: SamlSettings;
  sp: ServiceProvider;
  /**
   * The request IDs Gatehouse sent and still waits for, or a callback that consumes one:
   * returns true once for an ID it issued, false for anything else or a second time.
   */
  requestIds: ReadonlySet<string> | ((id: string) => Promise<boolean> | boolean);
  /** Stores the ID until `notOnOrAfter`; returns false when it was already stored (a replay). */
  rememberAssertionId: (id: string, notOnOrAfter: Date) => Promise<boolean> | boolean;
  now?: Date;
  /** Allowed clock difference with the IdP; at most 3 minutes. */
  clockSkewSeconds?: number;
  limits?: MessageLimits;
}

export const MAX_CLOCK_SKEW_SECONDS = 180;
const DEFAULT_CLOCK_SKEW_SECONDS = 120;
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";

/**
 * Validates a POSTed SAMLResponse (SAML profiles 4.1.4.3, Web Browser SSO) and fails closed:
 * every check below must pass, in this order, or a SamlCheckError names the one that did not.
 *
 *   bytes      message-size, message-encoding, doctype
 *   document   xml-well-formed, comment-or-processing-instruction, message-type, status,
 *              duplicate-id, assertion-count, encryption-algorithm, decryption,
 *              signature-algorithm
 *   signature  signature (node-saml, configured certificates only; identities read only
 *              from the signed bytes it returns)
 *   assertion  issuer, destination, audience, subject-confirmation, recipient, not-before,
 *              not-on-or-after, unsolicited, in-response-to, subject, replay
 */
export async function validateSamlResponse(input: ValidateResponseInput): Promise<SamlAssertion> {
  const { settings, sp } = input;
  const limits = input.limits ?? {};
  const now = input.now ?? new Date();
  const skewMs =
    Math.min(input.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS) * 1000;

  const xml = decodePostMessage(input.samlResponse, limits);
  const document = parseXml(xml, limits);
  refuseCommentsAndProcessingInstructions(document);
  const response = document.documentElement;
  if (response.namespaceURI !== NS.protocol || response.localName !== "Response") {
    throw new SamlCheckError("message-type", "the message is not a SAML 2.0 Response", {
      expected: "samlp:Response",
      received: `${response.namespaceURI ?? ""} ${response.localName ?? response.nodeName}`.trim(),
    });
  }
  checkStatus(response);
  refuseDuplicateIds(document);
  const carried = theOneAssertion(response);
  checkSignatureAlgorithms(document);
  if (carried.localName === "EncryptedAssertion") {
    const decrypted = await decryptAssertion(carried, sp.keyPair.privateKeyPem, limits);
    refuseDuplicateIds(decrypted);
    checkSignatureAlgorithms(decrypted);
    requireSignature(decrypted.documentElement);
  } else {
    requireSignature(carried);
  }

  // A Response that carries a signature must carry a valid one, even though the assertion's
  // own signature is what is required.
  const responseSigned = childElements(response, NS.dsig, "Signature").length > 0;
  const assertion = await verifiedAssertion(xml, settings, sp, limits, responseSigned);

  // From here on, only the signed assertion's bytes are read, plus the Response's own
  // attributes (Destination, InResponseTo, Issuer), which are checked, never trusted.
  const issuer = text(firstChild(assertion, NS.assertion, "Issuer"));
  if (issuer !== settings.idp.entityId) {
    throw new SamlCheckError("issuer", "the assertion's issuer is not this connection's IdP", {
      expected: settings.idp.entityId,
      received: issuer ?? "(absent)",
    });
  }
  const responseIssuer = firstChild(response, NS.assertion, "Issuer");
  if (responseIssuer && text(responseIssuer) !== settings.idp.entityId) {
    throw new SamlCheckError("issuer", "the response's issuer is not this connection's IdP", {
      expected: settings.idp.entityId,
      received: text(responseIssuer) ?? "(empty)",
    });
  }

  // SAML bindings 3.5.5.2: a signed message posted to us must name us as its Destination;
  // we require it of every response.
  const destination = attribute(response, "Destination");
  if (destination !== sp.acsUrl) {
    throw new SamlCheckError("destination", "the response was addressed elsewhere", {
      expected: sp.acsUrl,
      received: destination ?? "(absent)",
    });
  }

  const conditions = childElements(assertion, NS.assertion, "Conditions");
  const restrictions = conditions.flatMap((c) => childElements(c, NS.assertion, "AudienceRestriction"));
  // SAML core 2.5.1.4: every AudienceRestriction must be satisfied on its own.
  const unmet = restrictions.find(
    (r) => !childElements(r, NS.assertion, "Audience").some((a) => text(a) === sp.entityId),
  );
  if (conditions.length !== 1 || restrictions.length === 0 || unmet) {
    throw new SamlCheckError("audience", "the assertion is not meant for this service provider", {
      expected: sp.entityId,
      received: unmet
        ? childElements(unmet, NS.assertion, "Audience")
            .map((a) => text(a) ?? "")
            .join(", ") || "(empty)"
        : `${conditions.length} Conditions, ${restrictions.length} AudienceRestriction`,
    });
  }

  // SAML profiles 4.1.4.2: a bearer SubjectConfirmation with Recipient and NotOnOrAfter.
  const subject = firstChild(assertion, NS.assertion, "Subject");
  const confirmations = subject
    ? childElements(subject, NS.assertion, "SubjectConfirmation").filter(
        (c) => attribute(c, "Method") === BEARER,
      )
    : [];
  const confirmationData =
    confirmations.length === 1
      ? firstChild(confirmations[0]!, NS.assertion, "SubjectConfirmationData")
      : undefined;
  if (!confirmationData) {
    throw new SamlCheckError(
      "subject-confirmation",
      "the assertion has no single bearer SubjectConfirmationData",
      {
        expected: "1 bearer SubjectConfirmation with SubjectConfirmationData",
        received: `${confirmations.length}`,
      },
    );
  }
  const recipient = attribute(confirmationData, "Recipient");
  if (recipient !== sp.acsUrl) {
    throw new SamlCheckError("recipient", "the assertion was issued for another recipient", {
      expected: sp.acsUrl,
      received: recipient ?? "(absent)",
    });
  }

  const condition = conditions[0]!;
  checkNotBefore(attribute(condition, "NotBefore"), now, skewMs);
  checkNotBefore(attribute(confirmationData, "NotBefore"), now, skewMs);
  const confirmationExpiry = attribute(confirmationData, "NotOnOrAfter");
  if (confirmationExpiry === undefined) {
    throw new SamlCheckError("not-on-or-after", "the bearer confirmation has no NotOnOrAfter", {
      expected: "SubjectConfirmationData NotOnOrAfter",
      received: "(absent)",
    });
  }
  const expiries = [checkNotOnOrAfter(confirmationExpiry, now, skewMs)];
  const conditionExpiry = attribute(condition, "NotOnOrAfter");
  if (conditionExpiry !== undefined) expiries.push(checkNotOnOrAfter(conditionExpiry, now, skewMs));

  const inResponseTo = await checkInResponseTo(
    attribute(response, "InResponseTo"),
    attribute(confirmationData, "InResponseTo"),
    input.requestIds,
    settings.allowIdpInitiated,
  );

  const nameId = subject ? firstChild(subject, NS.assertion, "NameID") : undefined;
  const nameIdValue = text(nameId);
  if (!nameId || !nameIdValue) {
    throw new SamlCheckError("subject", "the assertion has no NameID", { expected: "saml:NameID" });
  }
  const nameIdFormat = attribute(nameId, "Format");
  // SAML core 8.3.8: a transient identifier is a one-time value. Returning people are found by
  // (connection, NameID), so one would make a new subject at every sign-in, and the person's
  // second sign-in would be refused as another person holding the address.
  if (nameIdFormat === NAMEID_FORMAT.transient) {
    throw new SamlCheckError(
      "subject",
      "a transient NameID is a one-time value and cannot identify a returning person: set the IdP to send a persistent or emailAddress NameID (SimpleSAMLphp: simplesaml.nameidattribute; Okta, Entra ID, AD FS: the application's Name ID format)",
      {
        expected: "a NameID that is not transient (persistent, emailAddress, unspecified, ...)",
        received: nameIdFormat,
      },
    );
  }

  const assertionId = attribute(assertion, "ID");
  if (!assertionId) throw new SamlCheckError("replay", "the assertion has no ID", { expected: "ID" });
  const notOnOrAfter = new Date(Math.min(...expiries.map((d) => d.getTime())));
  if (!(await input.rememberAssertionId(assertionId, notOnOrAfter))) {
    throw new SamlCheckError("replay", "this assertion was already used", { received: assertionId });
  }

  const attributes = readAttributes(assertion);
  const claims = readClaims({
    nameId: nameIdValue,
    nameIdFormat,
    attributes: attributes.byName,
    configured: settings.attributes,
  });
  const authnStatement = firstChild(assertion, NS.assertion, "AuthnStatement");
  return {
    subject: nameIdValue,
    nameIdFormat,
    email: claims.email,
    emailVerified: claims.email !== undefined,
    name: claims.name,
    givenName: claims.givenName,
    familyName: claims.familyName,
    groups: claims.groups,
    attributesSent: attributes.asSent,
    sessionIndex: attribute(authnStatement, "SessionIndex"),
    issuer,
    assertionId,
    notOnOrAfter,
    inResponseTo,
  };
}

function checkStatus(response: Element): void {
  const status = firstChild(response, NS.protocol, "Status");
  const code = status ? firstChild(status, NS.protocol, "StatusCode") : undefined;
  const value = attribute(code, "Value");
  if (value !== SUCCESS) {
    const second = code ? attribute(firstChild(code, NS.protocol, "StatusCode"), "Value") : undefined;
    const message = status ? text(firstChild(status, NS.protocol, "StatusMessage")) : undefined;
    throw new SamlCheckError("status", "the identity provider did not sign the user in", {
      expected: SUCCESS,
      received: [value ?? "(absent)", second, message].filter(Boolean).join(" / "),
    });
  }
}

function requireSignature(assertion: Element): void {
  // The assertion itself is signed, whether or not the Response around it is.
  if (childElements(assertion, NS.dsig, "Signature").length !== 1) {
    throw new SamlCheckError("signature", "the assertion is not signed", {
      expected: "an enveloped ds:Signature on the assertion",
      received: "none",
    });
  }
}

/**
 * node-saml verifies the signature against the configured certificates only (xml-crypto never
 * takes a key from KeyInfo) and hands back the signed bytes: the assertion parsed from them is
 * the only one read. Its own time, audience, issuer and InResponseTo checks are switched off
 * because they run above and below with Gatehouse's clock and check names.
 */
async function verifiedAssertion(
  xml: string,
  settings: SamlSettings,
  sp: ServiceProvider,
  limits: MessageLimits,
  responseSigned: boolean,
): Promise<Element> {
  const saml = new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    idpCert: settings.idp.signingCertificates,
    decryptionPvk: sp.keyPair.privateKeyPem,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: responseSigned,
    audience: false,
    acceptedClockSkewMs: -1,
    validateInResponseTo: ValidateInResponseTo.never,
  });
  let signedXml: string;
  try {
    const { profile } = await saml.validatePostResponseAsync({
      SAMLResponse: Buffer.from(xml, "utf8").toString("base64"),
    });
    if (!profile) throw new Error("no assertion in the response");
    signedXml = profile.getAssertionXml?.() ?? "";
  } catch (error) {
    if (error instanceof SamlStatusError) {
      throw new SamlCheckError("status", "the identity provider did not sign the user in", { cause: error });
    }
    // Every other refusal left in node-saml with this configuration is about the signature.
    throw new SamlCheckError(
      "signature",
      "the assertion's signature is not valid for this connection's certificates",
      {
        expected: `a signature by one of ${settings.idp.signingCertificates.length} configured certificate(s)`,
        cause: error,
      },
    );
  }
  const signed = parseXml(signedXml, limits).documentElement;
  if (signed.namespaceURI !== NS.assertion || signed.localName !== "Assertion") {
    throw new SamlCheckError("signature", "the signed content is not an assertion");
  }
  return signed;
}

// xs:dateTime as SAML core 1.3.3 requires it: UTC, no time zone offset.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function parseInstant(value: string, check: "not-before" | "not-on-or-after"): Date {
  const date = new Date(value);
  if (!DATE_TIME.test(value) || Number.isNaN(date.getTime())) {
    throw new SamlCheckError(check, "a time in the assertion is not a UTC xs:dateTime", { received: value });
  }
  return date;
}

function checkNotBefore(value: string | undefined, now: Date, skewMs: number): void {
  if (value === undefined) return;
  const notBefore = parseInstant(value, "not-before");
  if (now.getTime() + skewMs < notBefore.getTime()) {
    throw new SamlCheckError("not-before", "the assertion is not valid yet", {
      expected: `now (${now.toISOString()}) ≥ NotBefore - ${skewMs / 1000}s`,
      received: value,
    });
  }
}

function checkNotOnOrAfter(value: string, now: Date, skewMs: number): Date {
  const notOnOrAfter = parseInstant(value, "not-on-or-after");
  if (now.getTime() - skewMs >= notOnOrAfter.getTime()) {
    throw new SamlCheckError("not-on-or-after", "the assertion has expired", {
      expected: `now (${now.toISOString()}) < NotOnOrAfter + ${skewMs / 1000}s`,
      received: value,
    });
  }
  return notOnOrAfter;
}

async function checkInResponseTo(
  onResponse: string | undefined,
  onConfirmation: string | undefined,
  requestIds: ValidateResponseInput["requestIds"],
  allowIdpInitiated: boolean,
): Promise<string | undefined> {
  if (onResponse !== undefined && onConfirmation !== undefined && onResponse !== onConfirmation) {
    throw new SamlCheckError("in-response-to", "the response and its assertion answer different requests", {
      expected: onConfirmation,
      received: onResponse,
    });
  }
  const id = onConfirmation ?? onResponse;
  if (id === undefined) {
    if (allowIdpInitiated) return undefined;
    throw new SamlCheckError("unsolicited", "the response answers no request Gatehouse sent", {
      expected: "InResponseTo of a pending request",
      received: "(absent)",
    });
  }
  const known = typeof requestIds === "function" ? await requestIds(id) : requestIds.has(id);
  if (!known) {
    throw new SamlCheckError(
      "in-response-to",
      "the response answers a request Gatehouse did not send or already finished",
      {
        received: id,
      },
    );
  }
  return id;
}

function readAttributes(assertion: Element): {
  byName: AssertionAttributes;
  asSent: Record<string, string[]>;
} {
  const byName = new Map<string, string[]>();
  const asSent: Record<string, string[]> = {};
  for (const statement of childElements(assertion, NS.assertion, "AttributeStatement")) {
    for (const element of childElements(statement, NS.assertion, "Attribute")) {
      const values = childElements(element, NS.assertion, "AttributeValue")
        .map((v) => v.textContent ?? "")
        .filter((v) => v.trim() !== "");
      const name = attribute(element, "Name");
      const friendlyName = attribute(element, "FriendlyName");
      for (const key of new Set([name, friendlyName])) {
        if (!key) continue;
        byName.set(key, [...(byName.get(key) ?? []), ...values]);
      }
      const label =
        name && friendlyName && friendlyName !== name ? `${name} (${friendlyName})` : (name ?? friendlyName);
      if (label) asSent[label] = [...(asSent[label] ?? []), ...values];
    }
  }
  return { byName, asSent };
}
