import { ERRORS, type ErrorCode } from "./error-registry.js";

export type { ErrorCode } from "./error-registry.js";

/** The check a refusal failed, as data: what was expected and what was received. Never a secret. */
export interface FailedCheck {
  check: string;
  expected?: string | undefined;
  received?: string | undefined;
}

/**
 * What the identity provider itself answered when it refused (RFC 6749 4.1.2.1 and 5.2), as
 * data: whether trying again can help is read from it (src/error-remedy.ts). Never its
 * `error_description`, which is the provider's prose and belongs in `detail` only.
 */
export interface ProviderAnswer {
  /** The OAuth `error` code, such as `invalid_client`. */
  error?: string | undefined;
  /** The HTTP status of the provider's answer to a request Gatehouse sent it. */
  status?: number | undefined;
}

export interface ErrorOptions {
  /** The failed check, for a test sign-in's result page and the audit entry. */
  check?: FailedCheck | undefined;
  /** Technical reason for logs and the admin's activity view. Never a secret. */
  detail?: string | undefined;
  /** Per-field messages for form and API validation errors. */
  fields?: Record<string, string> | undefined;
  /** What the provider answered, when the refusal is its answer. */
  providerAnswer?: ProviderAnswer | undefined;
  /** The library error this one wraps. */
  cause?: unknown;
}

/**
 * One error type for everything Gatehouse refuses. The `code` is stable: its entry in the
 * registry (src/error-registry.ts) gives the HTTP status and the human words, the audit log
 * keeps it verbatim and tests assert on it. `detail` is for the admin's activity view and the
 * logs; `check` is the failed check as data. Neither may contain a secret, token or cookie.
 */
export class GatehouseError extends Error {
  override readonly name = "GatehouseError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly fields: Record<string, string> | undefined;
  readonly check: FailedCheck | undefined;
  readonly providerAnswer: ProviderAnswer | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERRORS[code].status;
    this.detail = options.detail;
    this.fields = options.fields;
    this.check = options.check;
    this.providerAnswer = options.providerAnswer;
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
