import { rotateSecretKey } from "../operations/rotate-secret-key.js";
import { DEFAULT_ROTATION_OVERLAP_MS, rotateSigningKey } from "../provider/signing-keys.js";
import { runGroup } from "./group.js";
import { help, parseOptions, withContext } from "./options.js";
import { UsageError } from "./output.js";

const ROTATE_USAGE = `Usage: gatehouse keys rotate [--overlap-hours <hours>]

Adds a new signing key for Gatehouse's OpenID Provider. It is published in the key set (JWKS)
at once and signs tokens only after the overlap (default 24 hours), so applications that cached
the key set have fetched the new key before they meet a token signed with it. Keys that stopped
signing more than an overlap ago are retired. Running instances pick the new key up within a minute.
  --overlap-hours   hours between publishing the new key and signing with it (0 to 720)
`;

const USAGE = `Usage: gatehouse keys <rotate|rotate-secret-key> [options]

Commands:
  rotate              Add a new signing key for the OpenID Provider (published now, signs later)
  rotate-secret-key   Re-encrypt every sealed value under the current GATEHOUSE_SECRET_KEY

Run "gatehouse keys <command> --help" for a command's options.
`;

const ROTATE_SECRET_USAGE = `Usage: gatehouse keys rotate-secret-key

Re-encrypts every sealed value (client secrets, private keys) under the current
GATEHOUSE_SECRET_KEY, in one transaction, and prints how many were re-encrypted. Run it after
setting the new key as GATEHOUSE_SECRET_KEY and the old one in GATEHOUSE_PREVIOUS_SECRET_KEYS.
With several instances, first add the new key to GATEHOUSE_PREVIOUS_SECRET_KEYS on every
instance and restart them, and only then make it current (docs/operations.md): an instance that
does not know the new key refuses the forms and cannot open the values another one sealed with it.
Keep the old key in GATEHOUSE_PREVIOUS_SECRET_KEYS until the cookies signed with it have expired
(GATEHOUSE_SESSION_TTL_SECONDS); then remove it. Running it twice is harmless.
`;

export function runKeysCommand(args: string[]): Promise<number> {
  return runGroup("keys", USAGE, { rotate: runRotate, "rotate-secret-key": runRotateSecretKey }, args);
}

async function runRotateSecretKey(args: string[]): Promise<number> {
  const values = parseOptions(args, {});
  if (values.help) return help(ROTATE_SECRET_USAGE);
  return withContext(async (ctx) => {
    const report = await rotateSecretKey(ctx);
    process.stdout.write(
      `Re-encrypted ${report.resealed} sealed value${report.resealed === 1 ? "" : "s"} under key ${report.keyId} ` +
        `(${report.current} already under it).\n`,
    );
    return 0;
  });
}

async function runRotate(rest: string[]): Promise<number> {
  const values = parseOptions(rest, { "overlap-hours": { type: "string" } });
  if (values.help) return help(ROTATE_USAGE);
  const raw = values["overlap-hours"];
  let overlapMs = DEFAULT_ROTATION_OVERLAP_MS;
  if (typeof raw === "string") {
    // Decimal notation only, as the environment's numbers: Number() would also read "1e2" and "0x10".
    const hours = /^[0-9]+(\.[0-9]+)?$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(hours) || hours < 0 || hours > 720) {
      throw new UsageError(
        `--overlap-hours must be a number of hours from 0 to 720 in decimal digits (e.g. 24 or 0.5), got "${raw}"`,
      );
    }
    overlapMs = Math.round(hours * 3600 * 1000);
  }
  return withContext(async (ctx) => {
    const rotated = await rotateSigningKey(ctx, overlapMs);
    process.stdout.write(
      `Published signing key ${rotated.kid}; it signs from ${new Date(rotated.signsFrom).toISOString()}.\n`,
    );
    if (rotated.retired.length > 0) process.stdout.write(`Retired: ${rotated.retired.join(", ")}\n`);
    return 0;
  });
}
