import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type DnsCheck, lookupChallenge } from "../../src/domains/dns.js";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.js";

/** Each case resolves through a real DNS server on loopback; the resolver is Node's own. */
let dns: TestDnsServer;
const TOKEN = "tok_0123456789abcdefghijklmnopqrst";
const VALUE = `gatehouse-domain-verification=${TOKEN}`;

before(async () => {
  dns = await startDnsServer({
    "_gatehouse-challenge.match.test": { txt: [[VALUE]] },
    "_gatehouse-challenge.split.test": {
      txt: [["gatehouse-domain-verification=", TOKEN.slice(0, 10), TOKEN.slice(10)]],
    },
    "_gatehouse-challenge.several.test": {
      txt: [["v=spf1 -all"], ["gatehouse-domain-verification=an-old-token"], [VALUE], ["other-vendor=abc"]],
    },
    "_gatehouse-challenge.wrong.test": {
      txt: [["v=spf1 -all"], [`gatehouse-domain-verification=${TOKEN}.wrong.test`], [`"${VALUE}"`]],
    },
    "_gatehouse-challenge.empty.test": { txt: [] },
    "_gatehouse-challenge.servfail.test": { rcode: "SERVFAIL" },
    "_gatehouse-challenge.refused.test": { rcode: "REFUSED" },
    "_gatehouse-challenge.silent.test": { silent: true },
    // Too long for a UDP answer: the resolver is told to ask again over TCP.
    "_gatehouse-challenge.large.test": {
      txt: [...Array.from({ length: 12 }, (_, i) => [`filler-${i}-${"x".repeat(60)}`]), [VALUE]],
    },
  });
});
after(() => dns.close());

function lookup(domain: string, timeoutMs = 1_000): Promise<DnsCheck> {
  return lookupChallenge({ dnsServers: [dns.address], dnsTimeoutMs: timeoutMs }, domain, TOKEN);
}

test("a matching record verifies", async () => {
  assert.deepEqual(await lookup("match.test"), { outcome: "verified" });
  assert.equal(dns.queries.get("_gatehouse-challenge.match.test"), 1);
});

test("a record split into several strings is joined before comparing", async () => {
  assert.deepEqual(await lookup("split.test"), { outcome: "verified" });
});

test("other TXT records at the name are ignored", async () => {
  assert.deepEqual(await lookup("several.test"), { outcome: "verified" });
});

test("records that do not match are shown: a zone appended twice, quotes added", async () => {
  assert.deepEqual(await lookup("wrong.test"), {
    outcome: "mismatch",
    found: [`gatehouse-domain-verification=${TOKEN}.wrong.test`, `"${VALUE}"`],
  });
});

test("NXDOMAIN is no record", async () => {
  assert.deepEqual(await lookup("nowhere.test"), { outcome: "no_record", code: "ENOTFOUND" });
});

test("a name without TXT records is no record", async () => {
  assert.deepEqual(await lookup("empty.test"), { outcome: "no_record", code: "ENODATA" });
});

test("SERVFAIL is a DNS failure, not a verdict", async () => {
  assert.deepEqual(await lookup("servfail.test"), { outcome: "dns_error", code: "ESERVFAIL" });
});

test("a refused query is a DNS failure", async () => {
  assert.deepEqual(await lookup("refused.test"), { outcome: "dns_error", code: "EREFUSED" });
});

test("a server that never answers times out within the bounded tries", async () => {
  const result = await lookup("silent.test", 150);
  assert.deepEqual(result, { outcome: "dns_error", code: "ETIMEOUT" });
  // Two tries, no more: the lookup does not keep a verify button waiting.
  assert.equal(dns.queries.get("_gatehouse-challenge.silent.test"), 2);
});

test("an answer too large for UDP is fetched over TCP", async () => {
  assert.deepEqual(await lookup("large.test"), { outcome: "verified" });
});

test("no server listening is a DNS failure", async () => {
  const gone = await startDnsServer();
  const address = gone.address;
  await gone.close();
  const result = await lookupChallenge({ dnsServers: [address], dnsTimeoutMs: 150 }, "match.test", TOKEN);
  assert.equal(result.outcome, "dns_error");
});
