/**
 * Domain verification against Debian's dnsmasq as the DNS server, through `lookupChallenge` and
 * through `POST /api/v1/domains/{id}/verify` and the admin's Verify button on a running
 * Gatehouse. The other domain tests resolve through test/support/dns-server.ts, which we wrote;
 * here the records, the truncation and the TCP fallback are a third party's. CI installs
 * dnsmasq-base (.ci/run); elsewhere the test skips when it is missing.
 */
import assert from "node:assert/strict";
import { Resolver } from "node:dns/promises";
import { after, before, describe, test } from "node:test";
import { CHALLENGE_PREFIX } from "../../src/domain/organization-domains.js";
import { type DnsCheck, lookupChallenge } from "../../src/domains/dns.js";
import { type Dnsmasq, type DnsmasqOptions, dnsmasqAvailable, startDnsmasq } from "../support/dnsmasq.js";
import { freePort } from "../support/gatehouse.js";
import { startVerifyingGatehouse, type VerifyingGatehouse } from "../support/verifying-gatehouse.js";

// CI installs dnsmasq-base, so there a missing binary fails instead of skipping.
const skip =
  !dnsmasqAvailable && !process.env.CI ? "dnsmasq-base is not installed (/usr/sbin/dnsmasq)" : false;

/** As the admin typed them; Gatehouse stores them lower-cased. */
const DOMAINS = [
  "match.test",
  "wrong.test",
  "absent.test",
  "nodata.test",
  "several.test",
  "split.test",
  "large.test",
  "Example.TEST",
  "delegated.test",
  "elsewhere.example",
] as const;

let gh: VerifyingGatehouse;
let dnsmasq: Dnsmasq;

/**
 * What each domain's owner published. Only `.test` is dnsmasq's own (`--local`): it answers
 * NXDOMAIN or NODATA there, and REFUSED for `elsewhere.example`, a name it has no record for and
 * no upstream to ask.
 */
function zone(): DnsmasqOptions {
  const value = (domain: string) => gh.domain(domain).record.value;
  const name = (domain: string) => gh.domain(domain).record.name;
  const token = (domain: string) => gh.token(domain);
  return {
    localDomains: ["test"],
    txt: [
      { name: name("match.test"), strings: [value("match.test")] },
      // Another domain's record pasted at this name: the right form, the wrong token.
      { name: name("wrong.test"), strings: [value("match.test")] },
      { name: name("several.test"), strings: ["v=spf1 -all"] },
      { name: name("several.test"), strings: [`${CHALLENGE_PREFIX}an-old-token`] },
      { name: name("several.test"), strings: [value("several.test")] },
      { name: name("several.test"), strings: ["other-vendor-verification=abc"] },
      {
        name: name("split.test"),
        strings: [CHALLENGE_PREFIX, token("split.test").slice(0, 10), token("split.test").slice(10)],
      },
      // Over 1,232 bytes (the EDNS UDP size dnsmasq and c-ares agree on): only TCP carries it.
      ...Array.from({ length: 8 }, (_, i) => ({
        name: name("large.test"),
        strings: [`filler-${i}-${"x".repeat(190)}`],
      })),
      { name: name("large.test"), strings: [value("large.test")] },
      // Published as typed in a DNS console, capitals and all; DNS names compare without case.
      { name: "_gatehouse-challenge.Example.TEST", strings: [value("example.test")] },
      { name: "delegated-test.verify.provider.test", strings: [value("delegated.test")] },
    ],
    hosts: [name("nodata.test")],
    cnames: [{ name: name("delegated.test"), target: "delegated-test.verify.provider.test" }],
  };
}

before(async () => {
  if (skip) return;
  const port = await freePort();
  gh = await startVerifyingGatehouse(`127.0.0.1:${port}`, DOMAINS);
  dnsmasq = await startDnsmasq({ ...zone(), port });
});

after(async () => {
  await dnsmasq?.stop();
  await gh?.close();
});

function lookup(domain: string): Promise<DnsCheck> {
  return lookupChallenge({ dnsServers: [dnsmasq.address], dnsTimeoutMs: 500 }, domain, gh.token(domain));
}

async function assertVerified(domain: string) {
  assert.deepEqual(await lookup(domain), { outcome: "verified" });
  const answer = await gh.verify(domain);
  assert.deepEqual(answer.result, { outcome: "verified" });
  assert.equal(answer.domain.state, "verified");
  assert.equal(answer.domain.active, true);
}

function queriesFor(name: string): Array<{ pid: number }> {
  const pattern = new RegExp(
    `^dnsmasq\\[(\\d+)\\]: query\\[TXT\\] ${name.replaceAll(".", "\\.")} from `,
    "i",
  );
  return dnsmasq.log.flatMap((line) => {
    const pid = pattern.exec(line)?.[1];
    return pid ? [{ pid: Number(pid) }] : [];
  });
}

describe("dnsmasq (Debian) as the DNS server", { skip }, () => {
  test("a matching record verifies the domain", async () => {
    await assertVerified("match.test");
  });

  test("a record with another token is a mismatch, shown to the admin in words", async () => {
    const published = gh.domain("match.test").record.value;
    assert.deepEqual(await lookup("wrong.test"), { outcome: "mismatch", found: [published] });
    const answer = await gh.verify("wrong.test");
    assert.deepEqual(answer.result, { outcome: "mismatch", found: [published] });
    assert.equal(answer.domain.state, "pending");
    assert.equal(answer.domain.active, false);

    const shown = await gh.verifyOnPage("wrong.test");
    assert.equal(shown.status, 200);
    assert.match(shown.body, /data-testid="verify-outcome" data-outcome="mismatch"/);
    assert.match(shown.body, /but it does not match/);
    assert.ok(shown.body.includes(`<li><code>${published}</code></li>`), "the record found is shown");
    assert.ok(shown.body.includes(`It expects exactly <code>${gh.domain("wrong.test").record.value}</code>`));
  });

  test("no record at the name (NXDOMAIN) is no_record, and the domain stays pending", async () => {
    assert.deepEqual(await lookup("absent.test"), { outcome: "no_record", code: "ENOTFOUND" });
    const answer = await gh.verify("absent.test");
    assert.deepEqual(answer.result, { outcome: "no_record", code: "ENOTFOUND" });
    assert.equal(answer.domain.state, "pending");
    assert.equal(answer.domain.lastCheckOutcome, "no_record");
  });

  test("a name without TXT records (NODATA) is no_record", async () => {
    assert.deepEqual(await lookup("nodata.test"), { outcome: "no_record", code: "ENODATA" });
    const answer = await gh.verify("nodata.test");
    assert.deepEqual(answer.result, { outcome: "no_record", code: "ENODATA" });
    assert.equal(answer.domain.state, "pending");
  });

  test("a server that refuses the query is a DNS failure, not a verdict", async () => {
    assert.deepEqual(await lookup("elsewhere.example"), { outcome: "dns_error", code: "EREFUSED" });
    const answer = await gh.verify("elsewhere.example");
    assert.deepEqual(answer.result, { outcome: "dns_error", code: "EREFUSED" });
    assert.equal(answer.domain.state, "pending");
  });

  test("the right record among several TXT records verifies", async () => {
    await assertVerified("several.test");
  });

  test("a record split into several strings is joined before comparing", async () => {
    // The fixture is what it claims: dnsmasq serves one record of three strings.
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([dnsmasq.address]);
    const records = await resolver.resolveTxt(gh.domain("split.test").record.name);
    assert.deepEqual(
      records.map((strings) => strings.length),
      [3],
    );
    await assertVerified("split.test");
  });

  test("an answer too large for UDP is fetched again over TCP", async () => {
    const name = gh.domain("large.test").record.name;
    const before = queriesFor(name).length;
    await assertVerified("large.test");
    const queries = queriesFor(name).slice(before);
    // Two lookups, each asked over UDP (truncated) and again over TCP; dnsmasq serves a TCP
    // connection in a forked child, which logs under its own pid.
    assert.equal(queries.length, 4, dnsmasq.log.join("\n"));
    assert.equal(queries.filter((q) => q.pid === dnsmasq.pid).length, 2);
    assert.equal(queries.filter((q) => q.pid !== dnsmasq.pid).length, 2);
  });

  test("names compare without case: Example.TEST verifies against a record published in capitals", async () => {
    assert.equal(gh.domain("Example.TEST").domain, "example.test");
    await assertVerified("Example.TEST");
    assert.deepEqual(
      await lookupChallenge(
        { dnsServers: [dnsmasq.address], dnsTimeoutMs: 500 },
        "EXAMPLE.test",
        gh.token("example.test"),
      ),
      { outcome: "verified" },
    );
  });

  test("a challenge name delegated by CNAME to a provider's record verifies", async () => {
    await assertVerified("delegated.test");
  });
});
