import { createHash, hkdfSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, decodeSecretKey } from "../config.js";

export interface SecretKey {
  /** Short, stable id written next to every ciphertext so that keys can rotate. */
  id: string;
  bytes: Buffer;
}

export function parseSecretKey(base64: string, name = "GATEHOUSE_SECRET_KEY"): SecretKey {
  const bytes = decodeSecretKey(base64, name);
  return { id: keyId(bytes), bytes };
}

export function keyId(bytes: Buffer): string {
  return createHash("sha256").update("gatehouse key id").update(bytes).digest("base64url").slice(0, 8);
}

export const SECRET_KEY_FILE = "secret.key";

/**
 * For an embedded SQLite deployment with no key configured, without writing anything: the key
 * kept beside the database, or `undefined` when one may be generated there. A key is generated
 * only for a database that does not exist yet (or is an empty file): beside a database that
 * holds data (a restored backup, a moved folder) a new key could open none of its sealed values
 * and would pass for the right one from then on, so that is refused instead.
 */
export function readKeyFile(databaseFile: string): SecretKey | undefined {
  const dataDir = path.dirname(path.resolve(databaseFile));
  const file = path.join(dataDir, SECRET_KEY_FILE);
  if (existsSync(file)) return parseSecretKey(readFileSync(file, "utf8"), file);
  if (holdsData(databaseFile)) {
    throw new ConfigError(
      `the secret key of the database ${path.resolve(databaseFile)} is missing: copy the secret.key that was backed up with it to ${file}, or set GATEHOUSE_SECRET_KEY or GATEHOUSE_SECRET_KEY_FILE`,
    );
  }
  return undefined;
}

/** The database file, or its write-ahead log, has content. */
function holdsData(databaseFile: string): boolean {
  return [databaseFile, `${databaseFile}-wal`].some((file) => {
    try {
      return statSync(file).size > 0;
    } catch {
      return false;
    }
  });
}

/**
 * For an embedded SQLite deployment with no key configured: read the key kept beside the
 * database, or, for a new database, create one there readable by this user only.
 */
export function loadOrCreateKeyFile(databaseFile: string): { key: SecretKey; created: boolean } {
  const existing = readKeyFile(databaseFile);
  if (existing) return { key: existing, created: false };
  return { key: writeKeyFile(databaseFile), created: true };
}

/**
 * `gatehouse migrate` creating a database creates its key beside it too, as `serve` would: a
 * database and its generated key are always born together, so a database found without its
 * key is one that was copied or moved. Returns whether a key was written.
 */
export function createKeyFileForNewDatabase(databaseFile: string): boolean {
  const file = path.join(path.dirname(path.resolve(databaseFile)), SECRET_KEY_FILE);
  if (existsSync(file) || holdsData(databaseFile)) return false;
  writeKeyFile(databaseFile);
  return true;
}

function writeKeyFile(databaseFile: string): SecretKey {
  const dataDir = path.dirname(path.resolve(databaseFile));
  const file = path.join(dataDir, SECRET_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const encoded = randomBytes(32).toString("base64");
  writeFileSync(file, `${encoded}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return parseSecretKey(encoded, file);
}

/** A key for one purpose (cookies, CSRF) derived from the master key, so no two uses share a key. */
export function deriveKey(master: SecretKey, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master.bytes, Buffer.alloc(0), `gatehouse:${purpose}`, 32));
}
