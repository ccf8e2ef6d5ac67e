import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { createApiKey } from "../src/api/keys.js";
import { listAuditEvents } from "../src/store/audit.js";
import { startDnsServer, type TestDnsServer } from "./support/dns-server.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";

/** `/api/v1/domains` with an organization API key, verifying through a DNS server on loopback. */
let gh: TestGatehouse;
let dns: TestDnsServer;
let acmeKey: string;
let globexKey: string;
let acmeId: string;

interface DomainBody {
  id: string;
  domain: string;
  displayName: string;
  state: string;
  active: boolean;
  record: { type: string; name: string; value: string };
  lastCheckOutcome: string | null;
}

async function call(key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${gh.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

before(async () => {
  dns = await startDnsServer();
  gh = await startGatehouse({ env: { GATEHOUSE_DNS_SERVERS: dns.address, GATEHOUSE_DNS_TIMEOUT_MS: "300" } });
  for (const slug of ["acme", "globex"]) {
    const { organization } = await createOrganizationWithAdmin(gh.ctx, {
      slug,
      name: slug,
      adminEmail: `admin@${slug}.test`,
      adminPassword: "correct horse battery",
    });
    if (slug === "acme") acmeId = organization.id;
  }
  acmeKey = (await createApiKey(gh.ctx, "acme", "ci")).key;
  globexKey = (await createApiKey(gh.ctx, "globex", "ci")).key;
});
after(async () => {
  await gh?.close();
  await dns?.close();
});

test("consumer mail domains and public suffixes are refused with the reason", async () => {
  for (const domain of ["gmail.com", "co.uk"]) {
    const answer = await call(acmeKey, "POST", "/domains", { domain });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.code, "DOMAIN_NOT_ALLOWED");
    assert.match(String((answer.body.fields as Record<string, string>).domain), /public/);
  }
  const misspelt = await call(acmeKey, "POST", "/domains", { domian: "acme.example" });
  assert.equal(misspelt.status, 400);
  assert.equal(misspelt.body.code, "VALIDATION_FAILED");
});

test("add, then verify answers each outcome, audited; list, and remove", async () => {
  const added = await call(acmeKey, "POST", "/domains", { domain: "Bücher.Example." });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const domain = added.body as unknown as DomainBody;
  assert.equal(domain.domain, "xn--bcher-kva.example");
  assert.equal(domain.displayName, "bücher.example");
  assert.equal(domain.state, "pending");
  assert.equal(domain.active, false);
  assert.equal(domain.record.name, "_gatehouse-challenge.xn--bcher-kva.example");
  assert.match(domain.record.value, /^gatehouse-domain-verification=[\w-]{22,}$/);

  const verify = async () => {
    const answer = await call(acmeKey, "POST", `/domains/${domain.id}/verify`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as { result: { outcome: string; found?: string[] }; domain: DomainBody };
  };
  assert.equal((await verify()).result.outcome, "no_record");
  dns.set(domain.record.name, { txt: [[`${domain.record.value}.xn--bcher-kva.example`]] });
  const mismatch = await verify();
  assert.equal(mismatch.result.outcome, "mismatch");
  assert.deepEqual(mismatch.result.found, [`${domain.record.value}.xn--bcher-kva.example`]);
  dns.set(domain.record.name, { rcode: "SERVFAIL" });
  assert.equal((await verify()).result.outcome, "dns_error");
  dns.set(domain.record.name, {
    txt: [["v=spf1 -all"], [domain.record.value.slice(0, 20), domain.record.value.slice(20)]],
  });
  const verified = await verify();
  assert.equal(verified.result.outcome, "verified");
  assert.equal(verified.domain.state, "verified");
  assert.equal(verified.domain.active, true);

  const checks = await listAuditEvents(gh.ctx.store.db, {
    organizationId: acmeId,
    type: "domain.verification_checked",
    limit: 10,
  });
  assert.deepEqual(checks.map((e) => e.detail?.outcome).reverse(), [
    "no_record",
    "mismatch",
    "dns_error",
    "verified",
  ]);

  const listed = await call(acmeKey, "GET", "/domains");
  assert.equal(listed.status, 200);
  assert.deepEqual(
    (listed.body.data as DomainBody[]).map((d) => [d.domain, d.state]),
    [["xn--bcher-kva.example", "verified"]],
  );
  assert.deepEqual((await call(globexKey, "GET", "/domains")).body.data, []);

  // Another organization's key cannot see, verify or remove it.
  for (const [method, path] of [
    ["POST", `/domains/${domain.id}/verify`],
    ["DELETE", `/domains/${domain.id}`],
  ] as const) {
    const answer = await call(globexKey, method, path);
    assert.equal(answer.status, 404);
    assert.equal(answer.body.code, "DOMAIN_NOT_FOUND");
  }
  const duplicate = await call(acmeKey, "POST", "/domains", { domain: "bücher.example" });
  assert.equal(duplicate.status, 409);

  assert.equal((await call(acmeKey, "DELETE", `/domains/${domain.id}`)).status, 204);
  assert.equal((await call(acmeKey, "DELETE", `/domains/${domain.id}`)).status, 404);
  assert.deepEqual((await call(acmeKey, "GET", "/domains")).body.data, []);
});
