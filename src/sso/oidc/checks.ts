import type { GatehouseError } from "../../errors.js";

/**
 * The callback's checks by name, in the order they run (callback.ts). A real sign-in stops at
 * the first that fails; a test sign-in records each one that passed, with what was expected
 * and what was received, so the admin sees how far the provider got and why it stopped.
 */
export const CALLBACK_CHECKS = [
  { check: "state", label: "State: a test started in this browser, used once, in time" },
  { check: "provider_response", label: "Authorization response: a code, no error" },
  { check: "response_iss", label: "Authorization response issuer (RFC 9207)" },
  { check: "token_request", label: "Token request: client authenticated, tokens issued" },
  { check: "iss", label: "ID token issuer (iss)" },
  { check: "aud", label: "ID token audience (aud)" },
  { check: "nonce", label: "Nonce" },
  { check: "exp", label: "Expiry (exp)" },
  { check: "iat", label: "Issued at (iat)" },
  { check: "signature", label: "Signature and algorithm" },
  { check: "azp", label: "Authorized party (azp)" },
  { check: "at_hash", label: "Access token hash (at_hash)" },
  { check: "sub", label: "Subject (sub)" },
  { check: "userinfo", label: "Userinfo (sub equal to the ID token's)" },
  { check: "email", label: "Email address" },
  { check: "email_verified", label: "Email verified (email_verified)" },
  { check: "email_domain", label: "Email domain among the connection's verified domains" },
  { check: "account", label: "Account: signs in, is linked or is created in this organization" },
] as const;

export type CheckName = (typeof CALLBACK_CHECKS)[number]["check"];

export interface CheckEntry {
  check: CheckName;
  passed: boolean;
  expected?: string | undefined;
  received?: string | undefined;
  /** For a failure: the refusal's code and technical reason. */
  code?: string | undefined;
  detail?: string | undefined;
}

/** What a test sign-in collects while the real checks run. A real sign-in passes none. */
export class CheckLog {
  readonly entries: CheckEntry[] = [];

  pass(check: CheckName, expected?: unknown, received?: unknown): void {
    this.entries.push({ check, passed: true, expected: shown(expected), received: shown(received) });
  }

  /** Records the refusal that stopped the checks, as the check it names. */
  fail(error: GatehouseError): CheckEntry {
    const entry: CheckEntry = {
      check: failedCheckOf(error),
      passed: false,
      expected: error.check?.expected,
      received: error.check?.received,
      code: error.code,
      detail: error.detail ?? error.message,
    };
    this.entries.push(entry);
    return entry;
  }
}

const byCode: Partial<Record<string, CheckName>> = {
  SSO_STATE_MISSING: "state",
  SSO_STATE_UNKNOWN: "state",
  SSO_STATE_REPLAYED: "state",
  SSO_STATE_EXPIRED: "state",
  SSO_BROWSER_MISMATCH: "state",
  SSO_IDP_ERROR: "provider_response",
  SSO_RESPONSE_ISS_MISMATCH: "response_iss",
  SSO_TOKEN_REQUEST_FAILED: "token_request",
  SSO_USERINFO_INVALID: "userinfo",
  SSO_EMAIL_MISSING: "email",
  SSO_EMAIL_UNVERIFIED: "email_verified",
  SSO_EMAIL_DOMAIN_NOT_ALLOWED: "email_domain",
  SSO_USER_CONFLICT: "account",
};

const names = new Set<string>(CALLBACK_CHECKS.map((c) => c.check));

function failedCheckOf(error: GatehouseError): CheckName {
  if (error.check && names.has(error.check.check)) return error.check.check as CheckName;
  const mapped = byCode[error.code];
  if (mapped) return mapped;
  // An ID token refusal that named no claim: the key or the signature.
  if (error.code === "SSO_ID_TOKEN_INVALID" || error.code === "SSO_OUTBOUND_FAILED") return "signature";
  return "token_request";
}

/** Claims and values as the result page shows them: strings, clipped. */
export function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
