import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, afterEach, before, beforeEach, test } from "node:test";
import { loadConfig } from "../../src/config.js";
import { challengeRecord, FAILING_GRACE_MS } from "../../src/domain/organization-domains.js";
import { addDomain } from "../../src/domains/add.js";
import { type RecheckSummary, recheckDomains } from "../../src/domains/recheck.js";
import { verifyDomain } from "../../src/domains/verify.js";
import { toDomainView } from "../../src/domains/view.js";
import type { AppContext } from "../../src/server/context.js";
import { createContext } from "../../src/server/context-factory.js";
import { createLogger } from "../../src/server/log.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { findDomain, type OrganizationDomain } from "../../src/store/domains.js";
import { day, hour, seedOrganization, t0 } from "../store/fixtures.js";
import { runTsx } from "../support/cli.js";
import { type TestDatabase, withEachDatabase } from "../support/databases.js";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.js";

/**
 * The background re-verification against a real DNS server on loopback, with an injected clock:
 * a record that disappears turns the domain failing, it keeps working through the grace period,
 * then stops; it recovers when the record is back; every transition is audited; operator-verified
 * domains are never looked up; two instances sharing a database check each domain once.
 */
withEachDatabase("domain re-verification", (dialect) => {
  let database: TestDatabase;
  let dns: TestDnsServer;
  let now = t0;
  const instances: AppContext[] = [];

  // Each test gets its own database, so one test's domains are not due in the next.
  beforeEach(async () => {
    database = await dialect.create();
    now = t0;
  });
  afterEach(async () => {
    for (const ctx of instances.splice(0)) await ctx.store.close();
    await database.drop();
  });

  async function instance(): Promise<AppContext> {
    const ctx = await createContext(
      loadConfig({
        ...database.env,
        GATEHOUSE_DATABASE_URL: database.url,
        GATEHOUSE_BASE_URL: "http://localhost:3000",
        GATEHOUSE_DNS_SERVERS: dns.address,
        GATEHOUSE_DNS_TIMEOUT_MS: "300",
      }),
      {
        migrate: false,
        now: () => now,
        log: createLogger("warn", new Writable({ write: (_c, _e, done) => done() })),
      },
    );
    instances.push(ctx);
    return ctx;
  }

  before(async () => {
    dns = await startDnsServer();
  });
  after(() => dns.close());

  async function recheckInProcess(env: Record<string, string>, at: number): Promise<RecheckSummary> {
    const run = await runTsx(["test/support/recheck-instance.ts", String(at)], env);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as RecheckSummary;
  }

  /** A domain of a new organization, verified by DNS at the current time. */
  async function verifiedByDns(ctx: AppContext, slug: string, name: string): Promise<OrganizationDomain> {
    const organization = await seedOrganization(ctx.store.db, slug);
    const actor = { organizationId: organization.id, actorUserId: null };
    const added = await addDomain(ctx, actor, name);
    const record = challengeRecord(added.domain, added.verificationToken);
    dns.set(record.name, { txt: [[record.value]] });
    now += 1000;
    const answer = await verifyDomain(ctx, actor, added.id);
    assert.equal(answer.result.outcome, "verified");
    return answer.domain;
  }

  const reread = async (ctx: AppContext, d: OrganizationDomain) => {
    const found = await findDomain(ctx.store.db, d.organizationId, d.id);
    assert.ok(found);
    return found;
  };
  const types = async (ctx: AppContext, d: OrganizationDomain) =>
    (await listAuditEvents(ctx.store.db, { organizationId: d.organizationId, limit: 100 }))
      .map((e) => e.type)
      .filter((t) => t !== "domain.verification_checked")
      .reverse();

  test("a vanished record: failing, working through the grace period, then not; verified again when it returns", async () => {
    const ctx = await instance();
    const domain = await verifiedByDns(ctx, "grace", "grace.test");
    const record = challengeRecord(domain.domain, domain.verificationToken);

    now += hour;
    assert.deepEqual(await recheckDomains(ctx), { checked: 0, skipped: 0 }, "checked an hour ago: not due");

    dns.set(record.name, undefined);
    now += day;
    assert.equal((await recheckDomains(ctx)).checked, 1);
    const failing = await reread(ctx, domain);
    assert.equal(failing.state, "failing");
    assert.equal(failing.failingSince, now);
    assert.equal(failing.lastCheckOutcome, "no_record");
    assert.equal(toDomainView(failing, now).active, true, "works during the grace period");

    // Daily checks keep it failing from when it first failed.
    now = failing.failingSince + FAILING_GRACE_MS - 12 * hour;
    assert.equal((await recheckDomains(ctx)).checked, 1);
    const stillFailing = await reread(ctx, domain);
    assert.equal(stillFailing.failingSince, failing.failingSince);
    assert.equal(toDomainView(stillFailing, now).active, true);

    // The end of the grace period is checked then, not a day later, and recorded once.
    now = failing.failingSince + FAILING_GRACE_MS;
    assert.equal((await recheckDomains(ctx)).checked, 1);
    const expired = await reread(ctx, domain);
    assert.equal(toDomainView(expired, now).active, false, "stops routing after the grace period");
    now += hour;
    assert.equal((await recheckDomains(ctx)).checked, 0);

    dns.set(record.name, { txt: [[record.value]] });
    now += day;
    assert.equal((await recheckDomains(ctx)).checked, 1);
    const recovered = await reread(ctx, domain);
    assert.equal(recovered.state, "verified");
    assert.equal(recovered.failingSince, null);
    assert.equal(toDomainView(recovered, now).active, true);

    assert.deepEqual(await types(ctx, domain), [
      "domain.added",
      "domain.verified",
      "domain.failing",
      "domain.expired",
      "domain.recovered",
    ]);
    const checks = await listAuditEvents(ctx.store.db, {
      organizationId: domain.organizationId,
      type: "domain.verification_checked",
      limit: 100,
    });
    assert.deepEqual(checks.map((e) => [e.detail?.trigger, e.detail?.outcome]).reverse(), [
      ["dns", "verified"],
      ["recheck", "no_record"],
      ["recheck", "no_record"],
      ["recheck", "no_record"],
      ["recheck", "verified"],
    ]);
  });

  test("a DNS failure during a re-check changes nothing: it says nothing about ownership", async () => {
    const ctx = await instance();
    const domain = await verifiedByDns(ctx, "flaky", "flaky.test");
    const record = challengeRecord(domain.domain, domain.verificationToken);
    dns.set(record.name, { rcode: "SERVFAIL" });
    now += day + hour;
    assert.equal((await recheckDomains(ctx)).checked, 1);
    const after = await reread(ctx, domain);
    assert.equal(after.state, "verified");
    assert.equal(after.lastCheckOutcome, "dns_error");
  });

  test("operator-verified domains are never looked up", async () => {
    const ctx = await instance();
    const organization = await seedOrganization(ctx.store.db, "vouched");
    await addDomain(ctx, { organizationId: organization.id, actorUserId: null }, "vouched.test", {
      operatorVerified: true,
    });
    now += 30 * day;
    await recheckDomains(ctx);
    assert.equal(dns.queries.get("_gatehouse-challenge.vouched.test"), undefined);
  });

  test("two instances re-checking at once look each domain up once", async () => {
    const ctx = await instance();
    const names = ["one.test", "two.test", "three.test", "four.test", "five.test"];
    const domains: OrganizationDomain[] = [];
    for (const [i, name] of names.entries()) domains.push(await verifiedByDns(ctx, `pair-${i}`, name));
    now += day + hour;
    const before = new Map(names.map((n) => [n, dns.queries.get(`_gatehouse-challenge.${n}`) ?? 0]));
    // Two processes, as two deployed instances are: on SQLite, in-process connections to one
    // file would wait on each other's locks inside one event loop.
    const env = {
      ...database.env,
      GATEHOUSE_DATABASE_URL: database.url,
      GATEHOUSE_BASE_URL: "http://localhost:3000",
      GATEHOUSE_DNS_SERVERS: dns.address,
      GATEHOUSE_DNS_TIMEOUT_MS: "300",
    };
    const runs = await Promise.all([recheckInProcess(env, now), recheckInProcess(env, now)]);
    assert.equal(
      runs.reduce((sum, r) => sum + r.checked, 0),
      names.length,
      JSON.stringify(runs),
    );
    for (const name of names) {
      assert.equal(
        (dns.queries.get(`_gatehouse-challenge.${name}`) ?? 0) - (before.get(name) ?? 0),
        1,
        `${name} looked up once`,
      );
    }
    for (const domain of domains) {
      const checks = await listAuditEvents(ctx.store.db, {
        organizationId: domain.organizationId,
        type: "domain.verification_checked",
        limit: 10,
      });
      assert.equal(checks.filter((e) => e.detail?.trigger === "recheck").length, 1);
    }
    assert.deepEqual(await recheckDomains(ctx), { checked: 0, skipped: 0 });
  });
});
