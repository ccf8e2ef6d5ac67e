import argon2 from "argon2";
import { isCommonPassword } from "./common-passwords.js";

// OWASP's Argon2id baseline (19 MiB, 2 passes); verification reads parameters from the hash,
// so raising these later keeps old hashes valid.
const options = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, options);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let decoy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, so that an unknown email cannot be told from
 * a wrong password by the clock.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword("gatehouse-decoy-password");
  await verifyPassword(await decoy, password);
  return false;
}

export const MIN_PASSWORD_LENGTH = 12;

/** Why a new password is refused, or undefined when it is acceptable. */
export function passwordWeakness(password: string, email?: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 256) return "must be at most 256 characters";
  if (new Set(password).size < 5) return "must not repeat the same few characters";
  if (isCommonPassword(password)) return "is one of the most common passwords; choose a less predictable one";
  // Only a local part long enough to be guessed from: "a@x.com" must not forbid every "a".
  const local = email?.split("@")[0]?.toLowerCase() ?? "";
  if (local.length >= 4 && password.toLowerCase().includes(local))
    return "must not contain the email address";
  return undefined;
}
