import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { SecretKey } from "./secret-key.js";

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
    const iv = randomBytes(12);
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
