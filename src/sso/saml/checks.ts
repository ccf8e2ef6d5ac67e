/**
 * Every rule a SAML message is held to has a stable name. A refused message raises
 * `SamlCheckError` carrying the failed check as data (`check`, `expected`, `received`), so the
 * adapter can map it to an error code, the audit log can name the check and tests can assert on
 * it without reading prose. Values are clipped and never contain key material.
 */
export type SamlCheck =
  // Before any XML parser runs.
  | "message-size"
  | "message-encoding"
  | "doctype"
  // The document as a whole.
  | "xml-well-formed"
  | "comment-or-processing-instruction"
  | "message-type"
  | "duplicate-id"
  | "assertion-count"
  | "encryption-algorithm"
  | "decryption"
  | "signature-algorithm"
  | "signature"
  | "status"
  // The signed assertion.
  | "issuer"
  | "destination"
  | "audience"
  | "subject-confirmation"
  | "recipient"
  | "not-before"
  | "not-on-or-after"
  | "unsolicited"
  | "in-response-to"
  | "subject"
  | "replay"
  // Inputs that are not IdP responses.
  | "relay-state"
  | "metadata";

export class SamlCheckError extends Error {
  override readonly name = "SamlCheckError";
  readonly code = "SAML_CHECK_FAILED";
  readonly check: SamlCheck;
  readonly expected: string | undefined;
  readonly received: string | undefined;

  constructor(
    check: SamlCheck,
    message: string,
    facts: { expected?: unknown; received?: unknown; cause?: unknown } = {},
  ) {
    super(message, facts.cause === undefined ? undefined : { cause: facts.cause });
    this.check = check;
    this.expected = describe(facts.expected);
    this.received = describe(facts.received);
  }

  /** The facts as one line for the admin's sign-in activity and the logs. */
  get detail(): string {
    const parts = [`SAML check "${this.check}" failed: ${this.message}`];
    if (this.expected !== undefined) parts.push(`expected ${this.expected}`);
    if (this.received !== undefined) parts.push(`received ${this.received}`);
    return parts.join("; ");
  }
}

export function isSamlCheckError(error: unknown): error is SamlCheckError {
  return error instanceof SamlCheckError;
}

function describe(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
