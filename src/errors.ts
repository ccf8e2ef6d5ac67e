/**
 * One error type for everything Gatehouse refuses. The `code` is stable: the UI maps it to
 * human words, the audit log keeps it verbatim and tests assert on it. `detail` is for the
 * admin's activity view and the logs; it must never contain a secret, token or cookie.
 */
export type ErrorCode =
  | "AUTH_INVALID_CREDENTIALS"
  | "AUTH_RATE_LIMITED"
  | "AUTH_SSO_REQUIRED"
  | "AUTH_SIGNED_OUT"
  | "AUTH_FORBIDDEN"
  | "AUTH_UNAUTHENTICATED"
  | "CSRF_INVALID"
  | "REQUEST_INVALID"
  | "NOT_FOUND"
  | "CONFLICT"
  | "VALIDATION_FAILED"
  | "CONNECTION_NOT_FOUND"
  | "CONNECTION_DISABLED"
  | "DOMAIN_NOT_FOUND"
  | "DOMAIN_NOT_ALLOWED"
  | "DOMAIN_VERIFIED_ELSEWHERE"
  | "SSO_NO_CONNECTION"
  | "SSO_DISCOVERY_FAILED"
  | "SSO_ISSUER_MISMATCH"
  | "SSO_ISSUER_NOT_ALLOWED"
  | "SSO_OUTBOUND_FAILED"
  | "SSO_STATE_MISSING"
  | "SSO_LOGOUT_STATE_MISSING"
  | "SSO_LOGOUT_STATE_MISMATCH"
  | "SSO_STATE_UNKNOWN"
  | "SSO_STATE_REPLAYED"
  | "SSO_STATE_EXPIRED"
  | "SSO_BROWSER_MISMATCH"
  | "SSO_IDP_ERROR"
  | "SSO_RESPONSE_ISS_MISMATCH"
  | "SSO_TOKEN_REQUEST_FAILED"
  | "SSO_ID_TOKEN_INVALID"
  | "SSO_SAML_RESPONSE_INVALID"
  | "SSO_USERINFO_INVALID"
  | "SSO_EMAIL_MISSING"
  | "SSO_EMAIL_UNVERIFIED"
  | "SSO_EMAIL_DOMAIN_NOT_ALLOWED"
  | "SSO_TENANT_NOT_ALLOWED"
  | "SSO_USER_CONFLICT"
  | "LINKEDIN_NOT_CONFIGURED"
  | "PROVIDER_INTERACTION_EXPIRED"
  | "APPLICATION_NOT_FOUND"
  | "INVITATION_NOT_FOUND"
  | "INVITATION_EXPIRED"
  | "INVITATION_USED"
  | "INVITATION_REVOKED"
  | "MEMBER_CHANGE_REFUSED"
  | "IDEMPOTENCY_KEY_REUSED"
  | "IDEMPOTENCY_KEY_IN_USE"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL";

/** The check a refusal failed, as data: what was expected and what was received. Never a secret. */
export interface FailedCheck {
  check: string;
  expected?: string | undefined;
  received?: string | undefined;
}

export interface ErrorOptions {
  /** The failed check, for a test sign-in's result page. */
  check?: FailedCheck | undefined;
  /** Technical reason for logs and the admin's activity view. Never a secret. */
  detail?: string | undefined;
  /** Per-field messages for form and API validation errors. */
  fields?: Record<string, string> | undefined;
  /** The library error this one wraps. */
  cause?: unknown;
}

const statusByCode: Partial<Record<ErrorCode, number>> = {
  AUTH_INVALID_CREDENTIALS: 401,
  AUTH_UNAUTHENTICATED: 401,
  AUTH_SIGNED_OUT: 401,
  AUTH_RATE_LIMITED: 429,
  AUTH_SSO_REQUIRED: 403,
  AUTH_FORBIDDEN: 403,
  CSRF_INVALID: 403,
  REQUEST_INVALID: 400,
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  CONNECTION_NOT_FOUND: 404,
  DOMAIN_NOT_FOUND: 404,
  DOMAIN_NOT_ALLOWED: 400,
  DOMAIN_VERIFIED_ELSEWHERE: 409,
  CONFLICT: 409,
  LINKEDIN_NOT_CONFIGURED: 404,
  PROVIDER_INTERACTION_EXPIRED: 400,
  APPLICATION_NOT_FOUND: 404,
  INVITATION_NOT_FOUND: 404,
  // 410 Gone: the link existed and will never work again.
  INVITATION_EXPIRED: 410,
  INVITATION_USED: 410,
  INVITATION_REVOKED: 410,
  MEMBER_CHANGE_REFUSED: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_KEY_IN_USE: 409,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class GatehouseError extends Error {
  override readonly name = "GatehouseError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly fields: Record<string, string> | undefined;
  readonly check: FailedCheck | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // SSO failures are the IdP's or the request's fault, never a server error.
    this.status = statusByCode[code] ?? (code.startsWith("SSO_") ? 400 : 400);
    this.detail = options.detail;
    this.fields = options.fields;
    this.check = options.check;
  }
}

export function isGatehouseError(error: unknown): error is GatehouseError {
  return error instanceof GatehouseError;
}

export function validationError(
  fields: Record<string, string>,
  message = "Some fields need attention.",
): GatehouseError {
  return new GatehouseError("VALIDATION_FAILED", message, { fields });
}
