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
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import { CHALLENGE_PREFIX } from "../../src/domain/organization-domains.js";
import { type DnsCheck, lookupChallenge } from "../../src/domains/dns.js";
import { Browser, csrfToken, passwordSignIn } from "../support/browserless.js";
import { type Dnsmasq, type DnsmasqOptions, dnsmasqAvailable, startDnsmasq } from "../support/dnsmasq.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

// CI installs dnsmasq-base, so there a missing binary fails instead of skipping.
const skip =
  !dnsmasqAvailable && !process.env.CI ? "dnsmasq-base is not installed (/usr/sbin/dnsmasq)" : false;

const PASSWORD = "correct horse battery";
const DOMAINS_PAGE = "/admin/enterprise-authentication/domains";
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

interface Added {
  id: string;
  domain: string;
  record: { name: string; value: string };
}

let gh: TestGatehouse;
let dnsmasq: Dnsmasq;
let apiKey: string;
let admin: Browser;
const added = new Map<string, Added>();

function domainOf(domain: string): Added {
  const found = added.get(domain.toLowerCase());
  assert.ok(found, `${domain} was added`);
  return found;
}

function tokenOf(domain: string): string {
  return domainOf(domain).record.value.slice(CHALLENGE_PREFIX.length);
}

/**
 * What each domain's owner published. Only `.test` is dnsmasq's own (`--local`): it answers
 * NXDOMAIN or NODATA there, and REFUSED for `elsewhere.example`, a name it has no record for and
 * no upstream to ask.
 */
function zone(): DnsmasqOptions {
  const value = (domain: string) => domainOf(domain).record.value;
  const name = (domain: string) => domainOf(domain).record.name;
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
        strings: [CHALLENGE_PREFIX, tokenOf("split.test").slice(0, 10), tokenOf("split.test").slice(10)],
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

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${gh.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

before(async () => {
  if (skip) return;
  // Gatehouse is configured with dnsmasq's port before dnsmasq starts: the records it serves
  // hold the tokens Gatehouse hands out when the domains are added.
  const port = await freePort();
  gh = await startGatehouse({
    env: { GATEHOUSE_DNS_SERVERS: `127.0.0.1:${port}`, GATEHOUSE_DNS_TIMEOUT_MS: "500" },
  });
  await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: "admin@acme.test",
    adminPassword: PASSWORD,
  });
  apiKey = (await createApiKey(gh.ctx, "acme", "interop")).key;
  admin = new Browser();
  assert.equal((await passwordSignIn(admin, gh.url, "admin@acme.test", PASSWORD)).status, 303);
  for (const domain of DOMAINS) {
    const answer = await api("POST", "/domains", { domain });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const body = answer.body as unknown as Added;
    added.set(body.domain, body);
  }
  dnsmasq = await startDnsmasq({ ...zone(), port });
});

after(async () => {
  await dnsmasq?.stop();
  await gh?.close();
});

function lookup(domain: string): Promise<DnsCheck> {
  return lookupChallenge({ dnsServers: [dnsmasq.address], dnsTimeoutMs: 500 }, domain, tokenOf(domain));
}

interface Verified {
  result: { outcome: string; found?: string[]; code?: string };
  domain: { state: string; active: boolean; lastCheckOutcome: string | null };
}

async function verify(domain: string): Promise<Verified> {
  const answer = await api("POST", `/domains/${domainOf(domain).id}/verify`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Verified;
}

async function assertVerified(domain: string) {
  assert.deepEqual(await lookup(domain), { outcome: "verified" });
  const answer = await verify(domain);
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
    const published = domainOf("match.test").record.value;
    assert.deepEqual(await lookup("wrong.test"), { outcome: "mismatch", found: [published] });
    const answer = await verify("wrong.test");
    assert.deepEqual(answer.result, { outcome: "mismatch", found: [published] });
    assert.equal(answer.domain.state, "pending");
    assert.equal(answer.domain.active, false);

    const page = await admin.get(`${gh.url}${DOMAINS_PAGE}`);
    const shown = await admin.post(`${gh.url}${DOMAINS_PAGE}/${domainOf("wrong.test").id}/verify`, {
      _csrf: csrfToken(page.body),
    });
    assert.equal(shown.status, 200);
    assert.match(shown.body, /data-testid="verify-outcome" data-outcome="mismatch"/);
    assert.match(shown.body, /but it does not match/);
    assert.ok(shown.body.includes(`<li><code>${published}</code></li>`), "the record found is shown");
    assert.ok(shown.body.includes(`It expects exactly <code>${domainOf("wrong.test").record.value}</code>`));
  });

  test("no record at the name (NXDOMAIN) is no_record, and the domain stays pending", async () => {
    assert.deepEqual(await lookup("absent.test"), { outcome: "no_record", code: "ENOTFOUND" });
    const answer = await verify("absent.test");
    assert.deepEqual(answer.result, { outcome: "no_record", code: "ENOTFOUND" });
    assert.equal(answer.domain.state, "pending");
    assert.equal(answer.domain.lastCheckOutcome, "no_record");
  });

  test("a name without TXT records (NODATA) is no_record", async () => {
    assert.deepEqual(await lookup("nodata.test"), { outcome: "no_record", code: "ENODATA" });
    const answer = await verify("nodata.test");
    assert.deepEqual(answer.result, { outcome: "no_record", code: "ENODATA" });
    assert.equal(answer.domain.state, "pending");
  });

  test("a server that refuses the query is a DNS failure, not a verdict", async () => {
    assert.deepEqual(await lookup("elsewhere.example"), { outcome: "dns_error", code: "EREFUSED" });
    const answer = await verify("elsewhere.example");
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
    const records = await resolver.resolveTxt(domainOf("split.test").record.name);
    assert.deepEqual(
      records.map((strings) => strings.length),
      [3],
    );
    await assertVerified("split.test");
  });

  test("an answer too large for UDP is fetched again over TCP", async () => {
    const name = domainOf("large.test").record.name;
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
    assert.equal(domainOf("Example.TEST").domain, "example.test");
    await assertVerified("Example.TEST");
    assert.deepEqual(
      await lookupChallenge(
        { dnsServers: [dnsmasq.address], dnsTimeoutMs: 500 },
        "EXAMPLE.test",
        tokenOf("example.test"),
      ),
      { outcome: "verified" },
    );
  });

  test("a challenge name delegated by CNAME to a provider's record verifies", async () => {
    await assertVerified("delegated.test");
  });
});
