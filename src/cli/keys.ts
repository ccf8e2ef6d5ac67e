import { DEFAULT_ROTATION_OVERLAP_MS, rotateSigningKey } from "../provider/signing-keys.js";
import { help, parseOptions, withContext } from "./options.js";
import { UsageError } from "./output.js";

const ROTATE_USAGE = `Usage: gatehouse keys rotate [--overlap-hours <hours>]

Adds a new signing key for Gatehouse's OpenID Provider. It is published in the key set (JWKS)
at once and signs tokens only after the overlap (default 24 hours), so applications that cached
the key set have fetched the new key before they meet a token signed with it. Keys that stopped
signing more than an overlap ago are retired. Running instances pick the new key up within a minute.
  --overlap-hours   hours between publishing the new key and signing with it (0 to 720)
`;

export async function runKeysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") return help(ROTATE_USAGE);
  if (sub !== "rotate") throw new UsageError(`unknown command "keys ${sub ?? ""}"\n\n${ROTATE_USAGE}`);
  const values = parseOptions(rest, { "overlap-hours": { type: "string" } });
  if (values.help) return help(ROTATE_USAGE);
  const raw = values["overlap-hours"];
  let overlapMs = DEFAULT_ROTATION_OVERLAP_MS;
  if (typeof raw === "string") {
    const hours = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(hours) || hours < 0 || hours > 720) {
      throw new UsageError(`--overlap-hours must be a number from 0 to 720, got "${raw}"`);
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
