import { Resolver } from "node:dns/promises";
import type { Config } from "../config.js";
import { challengeRecord, matchChallenge } from "../domain/organization-domains.js";

/** What one lookup of the challenge record found: exactly one of four answers. */
export type DnsCheck =
  | { outcome: "verified" }
  /** NXDOMAIN, or the name exists without TXT records. */
  | { outcome: "no_record"; code: string }
  /** TXT records are there, none of them ours: `found` shows what is, so a typo can be seen. */
  | { outcome: "mismatch"; found: string[] }
  /** SERVFAIL, timeout, refused: nothing learned about ownership; try again. */
  | { outcome: "dns_error"; code: string };

const NO_RECORD = new Set(["ENOTFOUND", "ENODATA"]);

/**
 * Looks up `_gatehouse-challenge.<domain>` TXT through `node:dns/promises` with bounded time:
 * each server gets two tries starting at `dnsTimeoutMs`, and the whole lookup is cancelled after
 * a budget covering all of them, so a verify button or the background job never hangs.
 */
export async function lookupChallenge(
  config: Pick<Config, "dnsServers" | "dnsTimeoutMs">,
  domain: string,
  token: string,
): Promise<DnsCheck> {
  const tries = 2;
  const resolver = new Resolver({ timeout: config.dnsTimeoutMs, tries });
  if (config.dnsServers.length > 0) resolver.setServers(config.dnsServers);
  // c-ares doubles the timeout on each retry (t + 2t per server); the budget covers that with
  // room to spare and only cuts a resolver that is stuck for another reason.
  const budget = config.dnsTimeoutMs * 4 * Math.max(1, resolver.getServers().length) + 1_000;
  const timer = setTimeout(() => resolver.cancel(), budget);
  const record = challengeRecord(domain, token);
  try {
    const records = await resolver.resolveTxt(record.name);
    if (records.length === 0) return { outcome: "no_record", code: "ENODATA" };
    const match = matchChallenge(records, record.value);
    return match.matched ? { outcome: "verified" } : { outcome: "mismatch", found: match.found };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EUNKNOWN";
    return NO_RECORD.has(code) ? { outcome: "no_record", code } : { outcome: "dns_error", code };
  } finally {
    clearTimeout(timer);
  }
}
