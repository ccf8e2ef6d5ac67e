import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { createApiKey, createOperatorApiKey } from "../src/api/keys.js";
import { Browser, csrfToken, errorCode, passwordSignIn } from "./support/browserless.js";
import { type TestDatabase, testDatabases } from "./support/databases.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";

const PASSWORD = "correct horse battery";

interface KeyView {
  id: string;
  scope: string;
  organizationId: string | null;
  name: string;
  prefix: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

async function call(base: string, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/**
 * Two Gatehouses over one database, as behind a load balancer: PostgreSQL when the app-level
 * tests run there, else one SQLite file that both open.
 */
/** The API keys page's row of one key. */
function keyRow(page: string, id: string): string {
  const row = new RegExp(`<tr data-key-id="${id}"[\\s\\S]*?</tr>`).exec(page)?.[0];
  assert.ok(row, `a row for the key ${id}`);
  return row;
}

describe("API keys: operator and organization keys, listed and revoked", () => {
  let database: TestDatabase;
  let a: TestGatehouse;
  let b: TestGatehouse;
  let orgKey: string;
  let otherOrgKey: string;
  let operatorKey: string;

  before(async () => {
    const dialect =
      testDatabases().find(
        (d) => d.name === (process.env.GATEHOUSE_TEST_DATABASE === "postgres" ? "postgres" : "sqlite"),
      ) ?? testDatabases()[0];
    assert.ok(dialect);
    database = await dialect.create();
    await database.store.close();
    a = await startGatehouse({ databaseUrl: database.url, env: database.env });
    b = await startGatehouse({ databaseUrl: database.url, env: database.env });
    await createOrganizationWithAdmin(a.ctx, {
      slug: "acme",
      name: "Acme",
      adminEmail: "admin@acme.test",
      adminPassword: PASSWORD,
    });
    await createOrganizationWithAdmin(a.ctx, {
      slug: "globex",
      name: "Globex",
      adminEmail: "admin@globex.test",
      adminPassword: PASSWORD,
    });
    orgKey = (await createApiKey(a.ctx, "acme", "ci")).key;
    otherOrgKey = (await createApiKey(a.ctx, "globex", "ci")).key;
    operatorKey = (await createOperatorApiKey(a.ctx, "platform")).key;
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  test("an operator key is told apart from an organization key and kept out of organization routes", async () => {
    assert.match(operatorKey, /^ghop_/);
    const me = await call(a.url, operatorKey, "GET", "/api/v1/me");
    assert.equal(me.status, 200);
    assert.equal(me.body.credential, "operator_key");
    const users = await call(a.url, operatorKey, "GET", "/api/v1/users");
    assert.equal(users.status, 403);
    assert.equal(users.body.code, "AUTH_FORBIDDEN");
  });

  test("an organization sees only its own keys, with when each was last used", async () => {
    await call(a.url, orgKey, "GET", "/api/v1/users");
    const listed = await call(b.url, orgKey, "GET", "/api/v1/api-keys");
    assert.equal(listed.status, 200);
    const keys = listed.body.data as KeyView[];
    assert.deepEqual(
      keys.map((k) => [k.name, k.scope]),
      [["ci", "organization"]],
    );
    assert.ok(keys[0]?.lastUsedAt, "last used is recorded");
    assert.ok(!JSON.stringify(listed.body).includes(orgKey), "the key itself is never listed");

    const operatorList = await call(a.url, operatorKey, "GET", "/api/v1/api-keys");
    assert.deepEqual(
      (operatorList.body.data as KeyView[]).map((k) => [k.name, k.scope]),
      [["platform", "operator"]],
    );
  });

  test("a key created through the API works, and another organization cannot revoke it", async () => {
    const created = await call(a.url, orgKey, "POST", "/api/v1/api-keys", { name: "deploy" });
    assert.equal(created.status, 201);
    const key = created.body.key as string;
    assert.match(key, /^ghk_/);
    assert.equal((await call(b.url, key, "GET", "/api/v1/users")).status, 200);

    const foreign = await call(a.url, otherOrgKey, "DELETE", `/api/v1/api-keys/${created.body.id}`);
    assert.equal(foreign.status, 404);
    assert.equal((await call(b.url, key, "GET", "/api/v1/users")).status, 200);

    const missingName = await call(a.url, orgKey, "POST", "/api/v1/api-keys", {});
    assert.equal(missingName.status, 400);
    assert.equal(missingName.body.code, "VALIDATION_FAILED");
  });

  test("a key revoked through one instance is refused by both at the next request", async () => {
    const created = await call(a.url, operatorKey, "POST", "/api/v1/api-keys", { name: "short-lived" });
    const key = created.body.key as string;
    assert.match(key, /^ghop_/);
    // Both instances have admitted it, so any cache would now hold it.
    assert.equal((await call(a.url, key, "GET", "/api/v1/me")).status, 200);
    assert.equal((await call(b.url, key, "GET", "/api/v1/me")).status, 200);

    const revoked = await call(b.url, operatorKey, "DELETE", `/api/v1/api-keys/${created.body.id}`);
    assert.equal(revoked.status, 204);
    for (const instance of [a, b]) {
      const refused = await call(instance.url, key, "GET", "/api/v1/me");
      assert.equal(refused.status, 401);
      assert.equal(refused.body.code, "AUTH_UNAUTHENTICATED");
    }
    const again = await call(a.url, operatorKey, "DELETE", `/api/v1/api-keys/${created.body.id}`);
    assert.equal(again.status, 404);
    const events = await call(a.url, orgKey, "GET", "/api/v1/events?type=api_key.created");
    assert.equal((events.body.data as unknown[]).length, 2, "acme's key creations only");
  });

  test("Administration > API keys creates a key shown once and revokes it", async () => {
    const browser = new Browser();
    assert.equal((await passwordSignIn(browser, a.url, "admin@acme.test", PASSWORD)).status, 303);
    const page = await browser.get(`${a.url}/admin/api-keys`);
    assert.equal(page.status, 200);
    assert.match(page.body, /data-key-id="/);

    const refused = await browser.post(`${a.url}/admin/api-keys`, {
      _csrf: csrfToken(page.body),
      name: "  ",
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body, /aria-invalid="true"/);

    const created = await browser.post(`${a.url}/admin/api-keys`, {
      _csrf: csrfToken(page.body),
      name: "console",
    });
    assert.equal(created.status, 201);
    const key = /id="new-api-key" type="text" value="(ghk_[^"]+)"/.exec(created.body)?.[1];
    assert.ok(key, "the new key is on the page");
    assert.equal((await call(b.url, key, "GET", "/api/v1/users")).status, 200);

    const listed = await browser.get(`${a.url}/admin/api-keys`);
    assert.ok(!listed.body.includes(key), "shown once only");
    const id = /data-key-id="([^"]+)" data-state="active">\s*<td>console</.exec(listed.body)?.[1];
    assert.ok(id);
    const activeRow = keyRow(listed.body, id);
    assert.match(activeRow, /data-field="key-state">Active</, "the State column says the key is active");
    // Revoke asks first: its form (and the only submit button) sits inside the closed confirmation.
    assert.match(
      activeRow,
      /<details class="confirm">\s*<summary[^>]*data-testid="revoke-key">Revoke…<\/summary>\s*<form method="post" action="[^"]+\/revoke">[\s\S]*Revoke console[\s\S]*cannot be restored[\s\S]*data-testid="confirm-revoke-key">Revoke<\/button>\s*<\/form>\s*<\/details>/,
    );
    assert.equal(activeRow.match(/<button/g)?.length, 1, "no button outside the confirmation");
    const revoke = await browser.post(`${a.url}/admin/api-keys/${id}/revoke`, {
      _csrf: csrfToken(listed.body),
    });
    assert.equal(revoke.status, 303);
    const after = await browser.get(revoke.location ?? "");
    assert.match(after.body, /data-testid="key-revoked"/);
    const revokedRow = keyRow(after.body, id);
    assert.match(
      revokedRow,
      /data-field="key-state">Revoked<\/span> <time datetime="\d{4}-[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d<\/time>/,
      "the State column says since when the key is revoked",
    );
    assert.doesNotMatch(revokedRow, /revoke-key/, "a revoked key offers no Revoke");
    assert.equal((await call(b.url, key, "GET", "/api/v1/users")).status, 401);

    const noCsrf = await browser.post(`${a.url}/admin/api-keys`, { name: "x" });
    assert.equal(noCsrf.status, 403);
    assert.equal(errorCode(noCsrf.body), "CSRF_INVALID");
  });
});
