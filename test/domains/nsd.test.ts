/**
 * Domain verification against NLnet Labs' NSD (Debian's nsd), an authoritative-only server,
 * serving a real zone file (corp.test.zone beside this file): the answers a customer's own DNS
 * provider gives, with the authoritative server's NXDOMAIN, NODATA and REFUSED. CI installs nsd
 * (.ci/run); elsewhere the test skips when it is missing.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { type DnsCheck, lookupChallenge } from "../../src/domains/dns.js";
import { freePort } from "../support/gatehouse.js";
import { type Nsd, nsdAvailable, startNsd } from "../support/nsd.js";
import { startVerifyingGatehouse, type VerifyingGatehouse } from "../support/verifying-gatehouse.js";

// CI installs nsd, so there a missing binary fails instead of skipping.
const skip = !nsdAvailable && !process.env.CI ? "nsd is not installed (/usr/sbin/nsd)" : false;

const DOMAINS = [
  "corp.test",
  "wrong.corp.test",
  "absent.corp.test",
  "ent.corp.test",
  "large.corp.test",
  "MixedCase.corp.test",
  "elsewhere.example",
] as const;

let gh: VerifyingGatehouse;
let nsd: Nsd;

before(async () => {
  if (skip) return;
  const port = await freePort();
  gh = await startVerifyingGatehouse(`127.0.0.1:${port}`, DOMAINS);
  const template = await readFile(new URL("./corp.test.zone", import.meta.url), "utf8");
  const zoneFile = template.replaceAll(/\{\{([a-z.]+)\}\}/g, (_, domain: string) => gh.token(domain));
  nsd = await startNsd({ zone: "corp.test", zoneFile, port });
});

after(async () => {
  await nsd?.stop();
  await gh?.close();
});

function lookup(domain: string): Promise<DnsCheck> {
  return lookupChallenge({ dnsServers: [nsd.address], dnsTimeoutMs: 500 }, domain, gh.token(domain));
}

/** The same conclusion from the lookup and from the API, and the state it leaves. */
async function assertOutcome(domain: string, expected: DnsCheck, state: "verified" | "pending") {
  assert.deepEqual(await lookup(domain), expected);
  const answer = await gh.verify(domain);
  assert.deepEqual(answer.result, expected);
  assert.equal(answer.domain.state, state);
  assert.equal(answer.domain.active, state === "verified");
}

describe("NSD (Debian) serving the customer's zone file", { skip }, () => {
  test("a record of two strings among other TXT records verifies", async () => {
    await assertOutcome("corp.test", { outcome: "verified" }, "verified");
  });

  test("another domain's record pasted at the name is a mismatch", async () => {
    const found = [gh.domain("corp.test").record.value];
    await assertOutcome("wrong.corp.test", { outcome: "mismatch", found }, "pending");
  });

  test("nothing at the name (NXDOMAIN) is no_record", async () => {
    await assertOutcome("absent.corp.test", { outcome: "no_record", code: "ENOTFOUND" }, "pending");
  });

  test("a challenge name that only has names below it (NODATA) is no_record", async () => {
    await assertOutcome("ent.corp.test", { outcome: "no_record", code: "ENODATA" }, "pending");
  });

  test("an answer too large for UDP is fetched again over TCP", async () => {
    await assertOutcome("large.corp.test", { outcome: "verified" }, "verified");
  });

  test("a record published in capitals verifies MixedCase.corp.test", async () => {
    assert.equal(gh.domain("MixedCase.corp.test").domain, "mixedcase.corp.test");
    await assertOutcome("MixedCase.corp.test", { outcome: "verified" }, "verified");
  });

  test("a zone the server is not authoritative for is REFUSED: a DNS failure, not a verdict", async () => {
    await assertOutcome("elsewhere.example", { outcome: "dns_error", code: "EREFUSED" }, "pending");
  });
});
