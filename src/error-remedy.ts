import { errorSpec, type Remedy } from "./error-registry.js";
import type { ErrorCode, ProviderAnswer } from "./errors.js";

/** What a refusal's remedy is read from: a GatehouseError is one. */
export interface RefusalFacts {
  code: ErrorCode;
  /** The failed check's name (`aud`, `signature`, SAML's `audience`, ...). */
  check?: { check: string } | undefined;
  providerAnswer?: ProviderAnswer | undefined;
}

/**
 * Whether trying again can get a person past a refused single sign-on, or only the
 * organization's administrator can, by fixing the connection (the registry's `remedy`).
 * Undefined for refusals that are no single sign-on's. A code that covers both kinds is
 * decided by what the provider answered or which check failed; what is not known to repeat
 * is `retry`, so nobody is told to give up on a fault that may pass.
 */
export function remedyOf(refusal: RefusalFacts): Remedy | undefined {
  const remedy = errorSpec(refusal.code).remedy;
  if (remedy !== "depends") return remedy;
  const answer = refusal.providerAnswer ?? {};
  const check = refusal.check?.check;
  switch (refusal.code) {
    case "SSO_TOKEN_REQUEST_FAILED":
      return tokenEndpointRemedy(answer);
    case "SSO_IDP_ERROR":
      return answer.error !== undefined && AUTHORIZATION_CONFIGURATION_ERRORS.has(answer.error)
        ? "administrator"
        : "retry";
    case "SSO_ID_TOKEN_INVALID":
      return check !== undefined && ID_TOKEN_CONFIGURATION_CHECKS.has(check) ? "administrator" : "retry";
    case "SSO_SAML_RESPONSE_INVALID":
      return check !== undefined && SAML_CONFIGURATION_CHECKS.has(check) ? "administrator" : "retry";
    case "SSO_EMAIL_UNVERIFIED":
      // `email_verified` false is the person's to fix at their provider; an unverified claim
      // that names an existing account never links it, however often it is tried.
      return check === "account" ? "administrator" : "retry";
    case "SSO_DISCOVERY_FAILED":
      // A discovery document that is not there (404, 403) stays so; a provider down or slow may not.
      return answer.status !== undefined && isPermanentClientError(answer.status) ? "administrator" : "retry";
    default:
      return "retry";
  }
}

/**
 * RFC 6749 5.2. The token endpoint refuses the client itself (a wrong, expired or regenerated
 * secret; a client not allowed the code grant or the connection's scopes) until the connection
 * or the provider's application changes; `invalid_grant` (a code expired or used) and the
 * provider's own failures pass with a new attempt.
 */
function tokenEndpointRemedy(answer: ProviderAnswer): Remedy {
  if (answer.error !== undefined && TRANSIENT_ERRORS.has(answer.error)) return "retry";
  if (answer.error !== undefined && TOKEN_CONFIGURATION_ERRORS.has(answer.error)) return "administrator";
  // RFC 6749 5.2: 401 is the answer to client authentication that failed.
  return answer.status === 401 ? "administrator" : "retry";
}

/** RFC 6749 4.1.2.1 and 5.2: the provider says to try later. */
const TRANSIENT_ERRORS = new Set(["server_error", "temporarily_unavailable"]);

const TOKEN_CONFIGURATION_ERRORS = new Set([
  "invalid_client",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
]);

/**
 * RFC 6749 4.1.2.1: the authorization endpoint refuses the client, the code flow or the scopes.
 * `access_denied` is not among them: the person may have cancelled, or picked another account.
 */
const AUTHORIZATION_CONFIGURATION_ERRORS = new Set([
  "invalid_client",
  "unauthorized_client",
  "unsupported_response_type",
  "invalid_scope",
]);

/**
 * ID token checks against the connection's own settings: the issuer, the client id, the keys
 * and algorithms the issuer publishes. `nonce`, `exp`, `iat` and `at_hash` are not: a clock or
 * a browser may differ the next time.
 */
const ID_TOKEN_CONFIGURATION_CHECKS = new Set(["iss", "aud", "azp", "signature"]);

/**
 * SAML checks against the connection's settings or the IdP's: the certificate it trusts, the
 * entity IDs, the ACS URL, encryption and the NameID. The status the IdP sent, the timing,
 * InResponseTo, replay and IdP-initiated sign-in may pass when the person starts again.
 */
const SAML_CONFIGURATION_CHECKS = new Set([
  "signature",
  "signature-algorithm",
  "issuer",
  "destination",
  "audience",
  "subject-confirmation",
  "recipient",
  "encryption-algorithm",
  "decryption",
  "subject",
]);

/** 4xx, but not 408 (timeout) or 429 (too many requests), which pass with time. */
function isPermanentClientError(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
