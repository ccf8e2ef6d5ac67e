import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { sql } from "kysely";
import { MIGRATIONS_RECHECK_MS } from "../../src/server/health.js";
import { migrateToLatest, openStore } from "../../src/store/database.js";
import { Browser, passwordSignIn } from "../support/browserless.js";
import { metricsHeaders, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN_EMAIL, ADMIN_PASSWORD, seedAcme } from "./helpers.js";

const EXPECTED_TABLES = [
  "api_keys",
  "audit_events",
  "connections",
  "memberships",
  "organizations",
  "password_credentials",
  "sessions",
  "users",
];

let gh: TestGatehouse;
before(async () => {
  gh = await startGatehouse();
  await seedAcme(gh);
});
after(() => gh.close());

test("migrations build the schema in a fresh database file, and a second run is a no-op", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-migrate-"));
  try {
    const store = openStore(`sqlite:${path.join(dir, "nested", "fresh.db")}`);
    try {
      const first = await migrateToLatest(store);
      assert.ok(first.applied.length > 0, "the first run applies every migration");
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
      for (const table of EXPECTED_TABLES) assert.ok(tables.includes(table), `table ${table} exists`);

      const second = await migrateToLatest(store);
      assert.deepEqual(second.applied, []);
      const again = (await store.db.introspection.getTables()).map((t) => t.name).sort();
      assert.deepEqual(again, [...tables].sort());
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("GET /healthz answers 200 and names the database", async () => {
  const answer = await new Browser().get(`${gh.url}/healthz`);
  assert.equal(answer.status, 200);
  const body = JSON.parse(answer.body) as { status: string; database: string };
  assert.equal(body.status, "ok");
  assert.equal(body.database, gh.ctx.store.dialect);
});

test("during a database outage /readyz and /healthz answer 503 while /livez stays 200", async () => {
  const broken = await startGatehouse();
  try {
    await broken.ctx.store.close();
    for (const path of ["/readyz", "/healthz"]) {
      const answer = await new Browser().get(`${broken.url}${path}`);
      assert.equal(answer.status, 503, path);
      const body = JSON.parse(answer.body) as { status: string; failed: string; database: string };
      assert.equal(body.status, "unavailable");
      assert.equal(body.failed, "database");
      assert.equal(body.database, gh.ctx.store.dialect);
    }
    // A liveness probe must not restart an instance that only waits for its database.
    const live = await new Browser().get(`${broken.url}/livez`);
    assert.equal(live.status, 200);
  } finally {
    await broken.close();
  }
});

test("/readyz answers 503 while a migration is missing, and once draining has begun", async () => {
  const fresh = await startGatehouse();
  try {
    const db = fresh.ctx.store.db;
    const [last] = (
      await sql<{
        name: string;
        timestamp: string;
      }>`select name, timestamp from kysely_migration order by name desc`.execute(db)
    ).rows;
    assert.ok(last);
    await sql`delete from kysely_migration where name = ${last.name}`.execute(db);
    const pending = await new Browser().get(`${fresh.url}/readyz`);
    assert.equal(pending.status, 503);
    assert.deepEqual(JSON.parse(pending.body), {
      status: "unavailable",
      failed: "migrations",
      database: fresh.ctx.store.dialect,
      detail: `pending: ${last.name}`,
    });
    await sql`insert into kysely_migration (name, timestamp) values (${last.name}, ${last.timestamp})`.execute(
      db,
    );
    assert.equal((await new Browser().get(`${fresh.url}/readyz`)).status, 200);

    fresh.ctx.lifecycle.draining = true;
    const draining = await new Browser().get(`${fresh.url}/readyz`);
    assert.equal(draining.status, 503);
    assert.equal((JSON.parse(draining.body) as { failed: string }).failed, "draining");
    assert.equal((await new Browser().get(`${fresh.url}/healthz`)).status, 503);
    assert.equal((await new Browser().get(`${fresh.url}/livez`)).status, 200);
  } finally {
    await fresh.close();
  }
});

// /readyz read the migrations until they first passed and never again, so it could not report
// a database that lost one under a running instance (restored from an older backup).
test("/readyz reads the migrations again at most every 30 seconds while they pass, at every probe while they fail", async () => {
  const fresh = await startGatehouse();
  try {
    const db = fresh.ctx.store.db;
    assert.equal((await new Browser().get(`${fresh.url}/readyz`)).status, 200);
    const [last] = (
      await sql<{
        name: string;
        timestamp: string;
      }>`select name, timestamp from kysely_migration order by name desc`.execute(db)
    ).rows;
    assert.ok(last);
    await sql`delete from kysely_migration where name = ${last.name}`.execute(db);
    assert.equal(
      (await new Browser().get(`${fresh.url}/readyz`)).status,
      200,
      "a passed check is trusted for 30 seconds: the probe stays cheap",
    );
    fresh.advance(MIGRATIONS_RECHECK_MS);
    const lost = await new Browser().get(`${fresh.url}/readyz`);
    assert.equal(lost.status, 503);
    assert.equal((JSON.parse(lost.body) as { failed: string }).failed, "migrations");
    await sql`insert into kysely_migration (name, timestamp) values (${last.name}, ${last.timestamp})`.execute(
      db,
    );
    assert.equal((await new Browser().get(`${fresh.url}/readyz`)).status, 200, "recovery is seen at once");
  } finally {
    await fresh.close();
  }
});

test("GET /metrics counts HTTP requests and successful password sign-ins", async () => {
  const signedIn = await passwordSignIn(new Browser(), gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  assert.equal(signedIn.status, 303);
  const metrics = await new Browser().get(`${gh.url}/metrics`, metricsHeaders);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(metrics.body, /^gatehouse_http_requests_total\{[^}]*route="\/login"[^}]*\} \d+/m);
  assert.match(metrics.body, /^gatehouse_sign_ins_total\{method="password",outcome="success"\} 1$/m);
});

// Issue 10, item 11: /metrics was public on the service port.
test("GET /metrics without the metrics token is refused, and is not served at all without one configured", async () => {
  assert.equal((await fetch(`${gh.url}/metrics`)).status, 401);
  const wrong = await fetch(`${gh.url}/metrics`, { headers: { authorization: "Bearer wrong-token" } });
  assert.equal(wrong.status, 401);
  assert.doesNotMatch(await wrong.text(), /gatehouse_http_requests_total/);
  const off = await startGatehouse({ env: { GATEHOUSE_METRICS_TOKEN: "" } });
  try {
    assert.equal((await fetch(`${off.url}/metrics`, { headers: metricsHeaders })).status, 404);
  } finally {
    await off.close();
  }
});

test("a refused /metrics scrape answers a JSON 401 with a Bearer challenge, not a sign-in page", async () => {
  for (const headers of [{}, { authorization: "Bearer wrong-token" }, { authorization: "Basic eDp5" }]) {
    const refused = await fetch(`${gh.url}/metrics`, { headers: { accept: "text/html", ...headers } });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /^Bearer\b/);
    assert.match(refused.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(((await refused.json()) as { code: string }).code, "AUTH_UNAUTHENTICATED");
  }
});
