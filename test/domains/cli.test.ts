import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { loadConfig } from "../../src/config.js";
import { createContext } from "../../src/server/context-factory.js";
import { createLogger } from "../../src/server/log.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { runGatehouseCli } from "../support/cli.js";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.js";

/** `gatehouse domain ...` as an operator runs it, verifying through a DNS server on loopback. */
let dir: string;
let env: Record<string, string>;
let dns: TestDnsServer;
let organizationId: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "gatehouse-domain-cli-"));
  dns = await startDnsServer();
  env = {
    GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "g.db")}`,
    GATEHOUSE_BASE_URL: "https://sso.example.com",
    GATEHOUSE_DNS_SERVERS: dns.address,
    GATEHOUSE_DNS_TIMEOUT_MS: "300",
  };
  const ctx = await createContext(loadConfig(env), {
    log: createLogger("warn", new Writable({ write: (_c, _e, done) => done() })),
  });
  try {
    ({
      organization: { id: organizationId },
    } = await createOrganizationWithAdmin(ctx, {
      slug: "acme",
      name: "Acme",
      adminEmail: "admin@acme.test",
      adminPassword: "correct horse battery",
    }));
  } finally {
    await ctx.store.close();
  }
});
after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

const gatehouse = (...args: string[]) => runGatehouseCli(env, ...args);

test("domain add prints the record; verify says what DNS found and exits 1 until it matches; list --json; remove", async () => {
  const added = await gatehouse("domain", "add", "--org", "acme", "--domain", "Acme-Corp.test");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Added acme-corp\.test to acme, pending/);
  const name = /name: +(\S+)/.exec(added.stdout)?.[1];
  const value = /value: +(\S+)/.exec(added.stdout)?.[1] ?? "";
  assert.equal(name, "_gatehouse-challenge.acme-corp.test");
  assert.match(value, /^gatehouse-domain-verification=/);

  const missing = await gatehouse("domain", "verify", "--org", "acme", "--domain", "acme-corp.test");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no TXT record at _gatehouse-challenge\.acme-corp\.test/);

  dns.set(name as string, { txt: [[value]] });
  const verified = await gatehouse("domain", "verify", "--org", "acme", "--domain", "acme-corp.test");
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /acme-corp\.test is verified/);

  const listed = await gatehouse("domain", "list", "--org", "acme", "--json");
  assert.equal(listed.code, 0, listed.stderr);
  const domains = JSON.parse(listed.stdout) as { domain: string; state: string; verifiedBy: string }[];
  assert.deepEqual(
    domains.map((d) => [d.domain, d.state, d.verifiedBy]),
    [["acme-corp.test", "verified", "dns"]],
  );

  const removed = await gatehouse("domain", "remove", "--org", "acme", "--domain", "acme-corp.test");
  assert.equal(removed.code, 0, removed.stderr);
  const table = await gatehouse("domain", "list", "--org", "acme");
  assert.equal(table.stdout, "No domains.\n");
});

test("domain add --verified is the operator's override, audited as such; refusals exit 1 with the reason", async () => {
  const vouched = await gatehouse("domain", "add", "--org", "acme", "--domain", "vouched.test", "--verified");
  assert.equal(vouched.code, 0, vouched.stderr);
  assert.match(vouched.stdout, /Verified vouched\.test for acme as the operator/);
  const [event] = await (async () => {
    const ctx = await createContext(loadConfig(env), {
      migrate: false,
      log: createLogger("warn", new Writable({ write: (_c, _e, done) => done() })),
    });
    try {
      return await listAuditEvents(ctx.store.db, { organizationId, type: "domain.verified", limit: 1 });
    } finally {
      await ctx.store.close();
    }
  })();
  assert.equal(event?.detail?.by, "operator");
  assert.match(String(event?.detail?.note), /operator override/);

  const [consumer, suffix, unknownOrg, unknownDomain, missingOption] = await Promise.all([
    gatehouse("domain", "add", "--org", "acme", "--domain", "gmail.com"),
    gatehouse("domain", "add", "--org", "acme", "--domain", "co.uk", "--verified"),
    gatehouse("domain", "list", "--org", "nope"),
    gatehouse("domain", "verify", "--org", "acme", "--domain", "nowhere.test"),
    gatehouse("domain", "add", "--org", "acme"),
  ]);
  assert.equal(consumer.code, 1);
  assert.match(consumer.stderr, /public email provider/);
  // Said once: the refusal's message is its only field's, so no "--domain:" copy follows.
  assert.equal(consumer.stderr.trimEnd().split("\n").length, 1, consumer.stderr);
  assert.doesNotMatch(consumer.stderr, /--domain:/);
  assert.equal(suffix.code, 1);
  assert.match(suffix.stderr, /public suffix/);
  assert.equal(unknownOrg.code, 1);
  assert.equal(unknownDomain.code, 1);
  assert.match(unknownDomain.stderr, /nowhere\.test is not a domain of acme/);
  assert.equal(missingOption.code, 2);
  assert.match(missingOption.stderr, /--domain is required/);
});
