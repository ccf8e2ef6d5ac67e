import { createCipheriv, createDecipheriv } from "node:crypto";
import type { SecretKey } from "./secret-key.js";
import { randomBytesFromPool } from "./tokens.js";

/**
 * AES-256-GCM for secrets at rest (IdP client secrets). The stored form is
 * `v1.<key id>.<iv>.<ciphertext>.<tag>` in base64url, so a value always says which key
 * sealed it and the current key can be rotated while older keys still open old values.
 */
export class SecretBox {
  readonly #current: SecretKey;
  readonly #keys: Map<string, SecretKey>;

  constructor(current: SecretKey, previous: readonly SecretKey[] = []) {
    this.#current = current;
    this.#keys = new Map([...previous, current].map((k) => [k.id, k]));
  }

  get currentKeyId(): string {
    return this.#current.id;
  }

  /** `context` binds the ciphertext to its row (e.g. the connection id) as additional data. */
  seal(plaintext: string, context: string): string {
    // A random 96-bit IV per value (NIST SP 800-38D 8.2.2), from the token pool: a sign-in seals
    // its ID token, and a system call per IV costs more than the encryption.
    const iv = randomBytesFromPool(12);
    const cipher = createCipheriv("aes-256-gcm", this.#current.bytes, iv);
    cipher.setAAD(Buffer.from(`${this.#current.id}:${context}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      "v1",
      this.#current.id,
      iv.toString("base64url"),
      ciphertext.toString("base64url"),
      tag.toString("base64url"),
    ].join(".");
  }

  open(sealed: string, context: string): string {
    const [version, kid, iv, ciphertext, tag] = sealed.split(".");
    if (version !== "v1" || !kid || iv === undefined || ciphertext === undefined || tag === undefined) {
      throw new Error("sealed value has an unknown format");
    }
    const key = this.#keys.get(kid);
    if (!key)
      throw new Error(`sealed with key ${kid}, which is not configured (GATEHOUSE_PREVIOUS_SECRET_KEYS)`);
    const decipher = createDecipheriv("aes-256-gcm", key.bytes, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(`${kid}:${context}`));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }
}
