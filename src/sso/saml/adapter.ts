import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import type {
  Assertion,
  CheckDescription,
  ClaimSet,
  SignInAdapter,
  SignInAttempt,
  SignInTarget,
  SignInTransaction,
} from "../../sign-in/adapter.js";
import type { SamlConnection } from "../../store/connections.js";
import { rememberAssertionId } from "../../store/saml-assertion-ids.js";
import { buildAuthnRequest } from "./authn-request.js";
import { isSamlCheckError } from "./checks.js";
import { buildLogoutRequest } from "./logout.js";
import { relayStateReturnTo } from "./relay-state.js";
import type { ServiceProvider } from "./service-provider.js";
import type { SamlSettings } from "./settings.js";
import { validateSamlSettings } from "./settings.js";
import { samlSettingsOf, serviceProviderOf } from "./stored-settings.js";
import { MAX_CLOCK_SKEW_SECONDS, type SamlAssertion, validateSamlResponse } from "./validate-response.js";

/** validateSamlResponse's checks in its order (validate-response.ts), then the adapter's own. */
export const SAML_CHECKS: readonly CheckDescription[] = [
  { check: "message-size", label: "Message size (before decoding)" },
  { check: "message-encoding", label: "Base64 and UTF-8" },
  { check: "doctype", label: "No DOCTYPE or entity declarations" },
  { check: "xml-well-formed", label: "Well-formed XML" },
  { check: "comment-or-processing-instruction", label: "No comments or processing instructions" },
  { check: "message-type", label: "A SAML 2.0 Response" },
  { check: "status", label: "Status Success" },
  { check: "duplicate-id", label: "Unique IDs" },
  { check: "assertion-count", label: "Exactly one assertion" },
  { check: "encryption-algorithm", label: "Encryption algorithms (RSA-OAEP, AES)" },
  { check: "decryption", label: "Decrypted with this connection's key" },
  { check: "signature-algorithm", label: "RSA-SHA256 or stronger, never SHA-1" },
  { check: "signature", label: "Assertion signed by a configured certificate" },
  { check: "issuer", label: "Issuer (IdP entity ID)" },
  { check: "destination", label: "Destination (ACS URL)" },
  { check: "audience", label: "Audience (SP entity ID)" },
  { check: "subject-confirmation", label: "Bearer subject confirmation" },
  { check: "recipient", label: "Recipient (ACS URL)" },
  { check: "not-before", label: "Not before" },
  { check: "not-on-or-after", label: "Not on or after" },
  { check: "unsolicited", label: "Solicited, or IdP-initiated sign-in allowed" },
  { check: "in-response-to", label: "InResponseTo (the request Gatehouse sent)" },
  { check: "subject", label: "Subject (NameID)" },
  { check: "replay", label: "Assertion not used before" },
  { check: "email", label: "Email address" },
];

/** The handles the pipeline makes (base64url, at most 64 characters); anything else is not one. */
const HANDLE = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * SAML 2.0 Web Browser SSO (Gatehouse as Service Provider): a signed AuthnRequest by
 * HTTP-Redirect with the transaction's handle as RelayState, the Response by HTTP-POST to the
 * connection's ACS URL, checked by validateSamlResponse. Every assertion ID is remembered in the
 * database until it expires, so a replay is refused by every instance.
 */
export function samlAdapter(ctx: AppContext): SignInAdapter {
  return {
    protocol: "saml",
    method: "sso",
    checks: SAML_CHECKS,

    async validateSettings(input) {
      return validateSamlSettings(input as Parameters<typeof validateSamlSettings>[0], {
        allowInsecureUrls: ctx.config.allowPrivateIssuers,
      });
    },

    async begin(target, { handle, now, reauthenticate }) {
      const { settings, sp } = resolve(ctx, target);
      const start = await buildAuthnRequest({
        settings,
        sp,
        relayState: handle,
        now: new Date(now),
        forceAuthn: reauthenticate === true,
      });
      return {
        step: { kind: "redirect", url: start.url },
        payload: { requestId: start.requestId },
        expiresAt: start.expiresAt.getTime(),
      };
    },

    readHandle(response) {
      // An IdP-initiated sign-in's RelayState is the IdP's (often a path): not a handle.
      const relayState = response.form.RelayState;
      return relayState && HANDLE.test(relayState) ? relayState : undefined;
    },

    acceptsUnsolicited(target) {
      return target.connection?.protocol === "saml" && target.connection.saml.allowIdpInitiated;
    },

    unsolicitedReturnTo(response) {
      // IdP-initiated, the RelayState is the IdP's choice of where to land (SAML bindings 3.4.3).
      return relayStateReturnTo(response.form.RelayState);
    },

    async complete(target, response, transaction, attempt) {
      const { connection, settings, sp } = resolve(ctx, target);
      const expected = expectedRequest(transaction);
      let verified: SamlAssertion;
      try {
        verified = await validateSamlResponse({
          samlResponse: response.form.SAMLResponse,
          // A sign-in Gatehouse began must be answered as one: no unsolicited answer to it.
          settings: expected ? { ...settings, allowIdpInitiated: false } : settings,
          sp,
          // The pipeline has consumed the transaction once; its request ID is matched once with it.
          requestIds: (id) => expected !== undefined && id === expected,
          rememberAssertionId: (id, notOnOrAfter) =>
            rememberAssertionId(ctx.store.db, {
              issuer: settings.idp.entityId,
              assertionId: id,
              // Accepted up to the clock skew past NotOnOrAfter, so remembered that long too.
              expiresAt: notOnOrAfter.getTime() + MAX_CLOCK_SKEW_SECONDS * 1000,
            }),
          now: new Date(ctx.now()),
        });
      } catch (error) {
        if (!isSamlCheckError(error)) throw error;
        if (attempt.recording) recordPassesBefore(attempt, error.check);
        throw new GatehouseError("SSO_SAML_RESPONSE_INVALID", "The identity provider's answer was refused.", {
          detail: error.detail,
          check: { check: error.check, expected: error.expected, received: error.received },
          cause: error,
        });
      }
      attempt.identify({ subject: verified.subject, email: verified.email });
      if (attempt.recording) {
        attempt.received(claimSets(verified));
        recordPasses(attempt, settings, sp, verified);
      }
      return toAssertion(connection, verified);
    },

    async endSession(target, session, { state }) {
      if (session.protocol !== "saml") return undefined;
      const { settings, sp } = resolve(ctx, target);
      const request = await buildLogoutRequest({
        settings,
        sp,
        subject: {
          nameId: session.nameId,
          nameIdFormat: session.nameIdFormat ?? undefined,
          sessionIndex: session.sessionIndex ?? undefined,
        },
        // Comes back on the LogoutResponse; the single logout route hands it to the home page.
        relayState: state,
      });
      return request?.url;
    },
  };
}

/** The connection's settings and Gatehouse's side of it, with the SP key opened for this flow. */
function resolve(
  ctx: AppContext,
  target: SignInTarget,
): { connection: SamlConnection; settings: SamlSettings; sp: ServiceProvider } {
  const connection = target.connection;
  if (connection?.protocol !== "saml") {
    throw new GatehouseError("CONNECTION_NOT_FOUND", "The connection is not a SAML connection.", {
      detail: "SAML sign-in for a connection of another protocol",
      check: { check: "state", expected: "a SAML connection", received: connection?.protocol ?? "none" },
    });
  }
  return {
    connection,
    settings: samlSettingsOf(connection.saml),
    sp: serviceProviderOf(ctx.box, ctx.config.baseUrl.toString(), connection.id, connection.saml),
  };
}

/** The AuthnRequest ID this transaction waits for; undefined for an IdP-initiated sign-in. */
function expectedRequest(transaction: SignInTransaction): string | undefined {
  if (transaction.payload === null && transaction.id === "") return undefined;
  const requestId = (transaction.payload as { requestId?: unknown } | null)?.requestId;
  if (typeof requestId !== "string") {
    throw new GatehouseError("SSO_STATE_UNKNOWN", "This sign-in is not known.", {
      detail: "the login transaction holds no SAML request ID",
      check: { check: "state", expected: "a SAML sign-in", received: "another payload" },
    });
  }
  return requestId;
}

function toAssertion(connection: SamlConnection, verified: SamlAssertion): Assertion {
  if (!verified.email) {
    throw new GatehouseError("SSO_EMAIL_MISSING", "The identity provider sent no email address.", {
      detail: connection.saml.emailAttribute
        ? `no email address in the "${connection.saml.emailAttribute}" attribute, the only one the connection's Email attribute setting reads: have the IdP send it, or change the setting to the attribute that holds the address`
        : "no email in the NameID or the attributes: have the IdP send an emailAddress NameID or an email attribute, or set the connection's Email attribute (advanced settings) to the attribute that holds the address",
      check: {
        check: "email",
        expected: connection.saml.emailAttribute
          ? `an address in the "${connection.saml.emailAttribute}" attribute`
          : "an emailAddress NameID or an email attribute",
        received: verified.nameIdFormat ?? "(no NameID format)",
      },
    });
  }
  if (verified.subject.length > 255) {
    throw new GatehouseError("SSO_SAML_RESPONSE_INVALID", "The identity provider's answer was refused.", {
      detail: "the NameID is longer than 255 characters",
      check: { check: "subject", expected: "at most 255 characters", received: `${verified.subject.length}` },
    });
  }
  const groups = [...verified.groups];
  return {
    providerKey: `connection:${connection.id}`,
    subject: verified.subject,
    email: verified.email,
    emailVerified: verified.emailVerified,
    name: verified.name ?? null,
    givenName: verified.givenName ?? null,
    familyName: verified.familyName ?? null,
    // The role rules read `groupsClaim`; SAML's groups come from the configured attribute or
    // the names IdPs send (assertion-claims.ts), whatever the rules call them.
    claims: { groups, [connection.roles.groupsClaim]: groups },
    idpSession: {
      protocol: "saml",
      nameId: verified.subject,
      nameIdFormat: verified.nameIdFormat ?? null,
      sessionIndex: verified.sessionIndex ?? null,
    },
    rawClaims: claimSets(verified),
  };
}

/** The verified assertion as a test sign-in shows it: what Gatehouse read, then what was sent. */
function claimSets(verified: SamlAssertion): ClaimSet[] {
  return [
    {
      key: "saml-attributes",
      title: "SAML assertion",
      nameHeading: "Attribute",
      claims: {
        NameID: verified.subject,
        NameIDFormat: verified.nameIdFormat ?? null,
        email: verified.email ?? null,
        name: verified.name ?? null,
        groups: [...verified.groups],
        SessionIndex: verified.sessionIndex ?? null,
      },
    },
    {
      key: "saml-attributes-sent",
      title: "Attributes as the IdP sent them",
      nameHeading: "Attribute",
      claims: Object.keys(verified.attributesSent).length > 0 ? { ...verified.attributesSent } : null,
      note: "The assertion has no attributes: only its NameID.",
    },
  ];
}

/**
 * A refused test sign-in: validateSamlResponse stops at the first check that fails, so every
 * check listed before it ran and passed. Without this the admin would read "Not applicable"
 * above the failure, as if the signature had never been checked.
 */
function recordPassesBefore(attempt: SignInAttempt, failed: string): void {
  const at = SAML_CHECKS.findIndex((c) => c.check === failed);
  for (const { check } of SAML_CHECKS.slice(0, Math.max(at, 0))) attempt.pass(check);
}

/** A test sign-in lists every check; validateSamlResponse ran them all, in SAML_CHECKS' order. */
function recordPasses(
  attempt: SignInAttempt,
  settings: SamlSettings,
  sp: ServiceProvider,
  verified: SamlAssertion,
): void {
  const facts: Partial<Record<string, [unknown, unknown]>> = {
    issuer: [settings.idp.entityId, verified.issuer],
    destination: [sp.acsUrl, sp.acsUrl],
    audience: [sp.entityId, sp.entityId],
    recipient: [sp.acsUrl, sp.acsUrl],
    "not-on-or-after": ["in the future", verified.notOnOrAfter.toISOString()],
    "in-response-to": ["the request Gatehouse sent", verified.inResponseTo ?? "(IdP-initiated)"],
    subject: ["a NameID", verified.subject],
    email: ["an email address", verified.email],
  };
  for (const { check } of SAML_CHECKS) {
    const [expected, received] = facts[check] ?? [];
    attempt.pass(check, expected, received);
  }
}
