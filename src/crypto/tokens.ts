import * as crypto from "node:crypto";

/** 256 bits of randomness, base64url: session ids, state, nonce, API keys. */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString("base64url");
}

// Every session check hashes its cookie: Node's one-shot hash (20.12 and later) costs less than
// half of a Hash object. Looked up rather than imported, so that Node 20.11 still starts.
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;

/** Session ids, API keys and login-transaction handles are stored only as this hash. */
export function hashToken(token: string): string {
  return oneShotHash
    ? oneShotHash("sha256", token, "base64url")
    : crypto.createHash("sha256").update(token).digest("base64url");
}

export function newId(): string {
  return crypto.randomUUID();
}

/** A short code a person can read out to their administrator. */
export function newTraceId(): string {
  return crypto.randomBytes(5).toString("hex").toUpperCase();
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}
