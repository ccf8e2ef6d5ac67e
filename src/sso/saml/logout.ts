import { randomBytes, verify, X509Certificate } from "node:crypto";
import { SAML } from "@node-saml/node-saml";
import { SamlCheckError } from "./checks.js";
import { decodeRedirectMessage, type MessageLimits, parseXml } from "./inbound-message.js";
import { refuseCommentsAndProcessingInstructions } from "./response-document.js";
import type { ServiceProvider } from "./service-provider.js";
import type { SamlSettings } from "./settings.js";
import { attribute, childElements, firstChild, NS, text } from "./xml.js";

/**
 * Single logout with the HTTP-Redirect binding (SAML profiles 4.4, bindings 3.4): Gatehouse
 * sends a signed LogoutRequest when a person signs out, and reads the LogoutResponse that
 * comes back, or a LogoutRequest the IdP sends when the person signs out elsewhere.
 */

/** Who to sign out at the IdP: the NameID and SessionIndex of the assertion that signed them in. */
export interface SamlLogoutSubject {
  nameId: string;
  nameIdFormat?: string | undefined;
  sessionIndex?: string | undefined;
}

/** A signed LogoutRequest as a URL to the IdP's SingleLogoutService; undefined when it has none. */
export async function buildLogoutRequest(input: {
  settings: SamlSettings;
  sp: ServiceProvider;
  subject: SamlLogoutSubject;
  relayState: string;
}): Promise<{ url: string; requestId: string } | undefined> {
  const sloUrl = input.settings.idp.sloUrl;
  if (!sloUrl) return undefined;
  const requestId = newMessageId();
  const saml = outboundSaml(input.settings, input.sp, sloUrl, requestId);
  const url = await saml.getLogoutUrlAsync(
    {
      issuer: input.sp.entityId,
      nameID: input.subject.nameId,
      nameIDFormat: input.subject.nameIdFormat ?? "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
      ...(input.subject.sessionIndex ? { sessionIndex: input.subject.sessionIndex } : {}),
    },
    input.relayState,
    {},
  );
  return { url, requestId };
}

/** The signed LogoutResponse to an IdP's LogoutRequest, as a URL to its SingleLogoutService. */
export async function buildLogoutResponse(input: {
  settings: SamlSettings;
  sp: ServiceProvider;
  inResponseTo: string;
  success: boolean;
  relayState: string | undefined;
}): Promise<string | undefined> {
  // SAML metadata 2.2.2: a ResponseLocation, when the IdP's metadata names one, is where its
  // endpoint takes responses; its Location may take requests only.
  const sloUrl = input.settings.idp.sloResponseUrl ?? input.settings.idp.sloUrl;
  if (!sloUrl) return undefined;
  const saml = outboundSaml(input.settings, input.sp, sloUrl, newMessageId());
  return saml.getLogoutResponseUrlAsync(
    { ID: input.inResponseTo, issuer: input.settings.idp.entityId, nameID: "", nameIDFormat: "" },
    input.relayState ?? "",
    {},
    input.success,
  );
}

function outboundSaml(settings: SamlSettings, sp: ServiceProvider, sloUrl: string, id: string): SAML {
  return new SAML({
    entryPoint: settings.idp.ssoUrl,
    logoutUrl: sloUrl,
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    idpCert: settings.idp.signingCertificates,
    privateKey: sp.keyPair.privateKeyPem,
    signatureAlgorithm: "sha256",
    generateUniqueId: () => id,
  });
}

/** What an IdP sent to the single logout URL, once every check passed. */
export type InboundLogoutMessage =
  | {
      kind: "LogoutRequest";
      id: string;
      nameId: string;
      sessionIndexes: string[];
      relayState: string | undefined;
    }
  | {
      kind: "LogoutResponse";
      inResponseTo: string | undefined;
      success: boolean;
      status: string;
      relayState: string | undefined;
    };

/** RSA with SHA-256 or stronger: SHA-1 is refused here as on assertions. */
const SIGNATURE_ALGORITHMS: Record<string, string> = {
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": "sha256",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": "sha384",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": "sha512",
};

const LOGOUT_REQUEST_MAX_SKEW_MS = 180_000;

/**
 * Reads a LogoutRequest or LogoutResponse from the raw query string of a Redirect-binding
 * request, failing closed: a single SAMLRequest or SAMLResponse, a signature (required: an
 * unsigned LogoutRequest would let anyone end anyone's session) by one of the configured
 * certificates over the octets as sent (bindings 3.4.4.1), the size cap and DOCTYPE refusal
 * before inflating and parsing, then Issuer, Destination and (for a request) NotOnOrAfter.
 */
export function readLogoutMessage(input: {
  rawQuery: string;
  settings: SamlSettings;
  sp: ServiceProvider;
  now?: Date;
  limits?: MessageLimits;
}): InboundLogoutMessage {
  const params = rawParameters(input.rawQuery);
  const messageName = params.has("SAMLRequest") ? "SAMLRequest" : "SAMLResponse";
  const encodedMessage = params.get(messageName);
  if (encodedMessage === undefined || (params.has("SAMLRequest") && params.has("SAMLResponse"))) {
    throw new SamlCheckError("message-type", "the request carries no single SAML logout message", {
      expected: "one SAMLRequest or SAMLResponse",
    });
  }
  verifyRedirectSignature(params, messageName, input.settings);
  const xml = decodeRedirectMessage(decodeComponent(encodedMessage), input.limits);
  const document = parseXml(xml, input.limits);
  refuseCommentsAndProcessingInstructions(document);
  const root = document.documentElement;
  const expectedName = messageName === "SAMLRequest" ? "LogoutRequest" : "LogoutResponse";
  if (root.namespaceURI !== NS.protocol || root.localName !== expectedName) {
    throw new SamlCheckError("message-type", `the message is not a SAML 2.0 ${expectedName}`, {
      expected: `samlp:${expectedName}`,
      received: root.localName ?? root.nodeName,
    });
  }
  const issuer = text(firstChild(root, NS.assertion, "Issuer"));
  if (issuer !== input.settings.idp.entityId) {
    throw new SamlCheckError("issuer", "the logout message is not from this connection's IdP", {
      expected: input.settings.idp.entityId,
      received: issuer ?? "(absent)",
    });
  }
  const destination = attribute(root, "Destination");
  if (destination !== undefined && destination !== input.sp.sloUrl) {
    throw new SamlCheckError("destination", "the logout message was addressed elsewhere", {
      expected: input.sp.sloUrl,
      received: destination,
    });
  }
  const relayStateParam = params.get("RelayState");
  const relayState = relayStateParam === undefined ? undefined : decodeComponent(relayStateParam);
  if (expectedName === "LogoutResponse") {
    const code = attribute(
      firstChild(firstChild(root, NS.protocol, "Status") ?? root, NS.protocol, "StatusCode"),
      "Value",
    );
    return {
      kind: "LogoutResponse",
      inResponseTo: attribute(root, "InResponseTo"),
      success: code === "urn:oasis:names:tc:SAML:2.0:status:Success",
      status: code ?? "(absent)",
      relayState,
    };
  }
  const id = attribute(root, "ID");
  const nameId = text(firstChild(root, NS.assertion, "NameID"));
  if (!id || !nameId) {
    throw new SamlCheckError("subject", "the LogoutRequest names no ID or NameID", {
      expected: "ID and saml:NameID",
    });
  }
  checkLogoutRequestExpiry(attribute(root, "NotOnOrAfter"), input.now ?? new Date());
  return {
    kind: "LogoutRequest",
    id,
    nameId,
    sessionIndexes: childElements(root, NS.protocol, "SessionIndex")
      .map((e) => text(e))
      .filter((v): v is string => v !== undefined),
    relayState,
  };
}

function verifyRedirectSignature(
  params: Map<string, string>,
  messageName: "SAMLRequest" | "SAMLResponse",
  settings: SamlSettings,
): void {
  const sigAlgRaw = params.get("SigAlg");
  const signatureRaw = params.get("Signature");
  if (sigAlgRaw === undefined || signatureRaw === undefined) {
    throw new SamlCheckError("signature", "the logout message is not signed", {
      expected: "SigAlg and Signature (HTTP-Redirect binding)",
      received: "none",
    });
  }
  const sigAlg = decodeComponent(sigAlgRaw);
  const hash = SIGNATURE_ALGORITHMS[sigAlg];
  if (!hash) {
    throw new SamlCheckError(
      "signature-algorithm",
      "the logout message is signed with a weak or unknown algorithm",
      {
        expected: "RSA-SHA256 or stronger",
        received: sigAlg,
      },
    );
  }
  // Bindings 3.4.4.1: the parameters in this order, with their values exactly as received.
  const relayState = params.get("RelayState");
  const signed = [
    `${messageName}=${params.get(messageName)}`,
    ...(relayState === undefined ? [] : [`RelayState=${relayState}`]),
    `SigAlg=${sigAlgRaw}`,
  ].join("&");
  const signature = Buffer.from(decodeComponent(signatureRaw), "base64");
  const valid = settings.idp.signingCertificates.some((pem) => {
    try {
      return verify(hash, Buffer.from(signed, "utf8"), new X509Certificate(pem).publicKey, signature);
    } catch {
      return false;
    }
  });
  if (!valid) {
    throw new SamlCheckError(
      "signature",
      "the logout message's signature is not valid for this connection's certificates",
      {
        expected: `a signature by one of ${settings.idp.signingCertificates.length} configured certificate(s)`,
      },
    );
  }
}

/** The query's parameters with their raw (still URL-encoded) values; a repeated name is refused. */
function rawParameters(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (params.has(name)) {
      throw new SamlCheckError("message-encoding", "a parameter appears twice", {
        received: name.slice(0, 40),
      });
    }
    params.set(name, eq === -1 ? "" : pair.slice(eq + 1));
  }
  return params;
}

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch (error) {
    throw new SamlCheckError("message-encoding", "a parameter is not URL-encoded", { cause: error });
  }
}

function checkLogoutRequestExpiry(value: string | undefined, now: Date): void {
  if (value === undefined) return;
  const notOnOrAfter = new Date(value);
  if (
    Number.isNaN(notOnOrAfter.getTime()) ||
    now.getTime() - LOGOUT_REQUEST_MAX_SKEW_MS >= notOnOrAfter.getTime()
  ) {
    throw new SamlCheckError("not-on-or-after", "the LogoutRequest has expired", { received: value });
  }
}

/** SAML core 1.3.4: an xs:ID, so it must not start with a digit. */
function newMessageId(): string {
  return `_${randomBytes(20).toString("hex")}`;
}
