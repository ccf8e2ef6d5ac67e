import { createHash, hkdfSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../config.js";

export interface SecretKey {
  /** Short, stable id written next to every ciphertext so that keys can rotate. */
  id: string;
  bytes: Buffer;
}

export function parseSecretKey(base64: string, name = "GATEHOUSE_SECRET_KEY"): SecretKey {
  const bytes = Buffer.from(base64.trim(), "base64");
  if (bytes.length !== 32) {
    throw new ConfigError(
      `${name} must be 32 bytes encoded in base64 (openssl rand -base64 32); got ${bytes.length} bytes`,
    );
  }
  return { id: keyId(bytes), bytes };
}

export function keyId(bytes: Buffer): string {
  return createHash("sha256").update("gatehouse key id").update(bytes).digest("base64url").slice(0, 8);
}

export const SECRET_KEY_FILE = "secret.key";

/**
 * For an embedded SQLite deployment with no key configured: read the key kept beside the
 * database, or create one there readable by this user only.
 */
export function loadOrCreateKeyFile(dataDir: string): { key: SecretKey; created: boolean } {
  const file = path.join(dataDir, SECRET_KEY_FILE);
  if (existsSync(file)) {
    return { key: parseSecretKey(readFileSync(file, "utf8"), file), created: false };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const encoded = randomBytes(32).toString("base64");
  writeFileSync(file, `${encoded}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { key: parseSecretKey(encoded, file), created: true };
}

/** A key for one purpose (cookies, CSRF) derived from the master key, so no two uses share a key. */
export function deriveKey(master: SecretKey, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master.bytes, Buffer.alloc(0), `gatehouse:${purpose}`, 32));
}
