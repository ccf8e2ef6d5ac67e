import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createApiKey } from "../../src/api/keys.js";
import { disableConnection } from "../../src/connections/delete.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser, csrfToken } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, ssoSignIn, startGatehouseWithIdp } from "../support/sso.js";

// Runs on SQLite, and on PostgreSQL with GATEHOUSE_TEST_DATABASE=postgres.
let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
let key: string;

before(async () => {
  ({ gh, idp } = await startGatehouseWithIdp());
  ({ organizationId } = await seedAcme(gh));
  ({ key } = await createApiKey(gh.ctx, "acme", "ci"));
});
after(async () => {
  await idp.close();
  await gh.close();
});

async function signedInEmail(browser: Browser): Promise<string | undefined> {
  const home = await browser.get(`${gh.url}/`);
  return /data-field="email">([^<]+)</.exec(home.body)?.[1];
}

function deleteThroughApi(connectionId: string) {
  return fetch(`${gh.url}/api/v1/connections/${connectionId}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${key}` },
  });
}

test("sessions a deleted connection issued no longer sign anyone in", async () => {
  const connection = await connectAcme(gh, idp, organizationId);
  const alice = new Browser();
  assert.equal((await ssoSignIn(alice, gh, idp, "alice@acme.test", "alice-password")).status, 303);
  assert.equal(await signedInEmail(alice), "alice@acme.test");

  assert.equal((await deleteThroughApi(connection.id)).status, 204);

  assert.equal(await signedInEmail(alice), undefined, "Alice's SSO session ended with its connection");
  const me = await alice.get(`${gh.url}/api/v1/me`);
  assert.equal(me.status, 401);
  const [deleted] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "connection.deleted",
    limit: 100,
  });
  assert.equal(deleted?.detail?.sessionsEnded, 1);
});

test("the admin who deletes the connection they signed in through stays signed in; everyone else is signed out", async () => {
  const connection = await connectAcme(gh, idp, organizationId);
  const admin = new Browser();
  const alice = new Browser();
  assert.equal((await ssoSignIn(admin, gh, idp, "admin@acme.test", "admin-password")).status, 303);
  assert.equal((await ssoSignIn(alice, gh, idp, "alice@acme.test", "alice-password")).status, 303);

  const deletePath = `/admin/enterprise-authentication/oidc/${connection.id}/delete`;
  const confirm = await admin.get(`${gh.url}${deletePath}`);
  assert.equal(confirm.status, 200);
  const deleted = await admin.post(`${gh.url}${deletePath}`, { _csrf: csrfToken(confirm.body) });
  assert.equal(deleted.status, 303);

  assert.equal(await signedInEmail(admin), "admin@acme.test", "the deleting admin sees the result");
  assert.equal(await signedInEmail(alice), undefined, "Alice's SSO session ended with its connection");
  const [event] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "connection.deleted",
    limit: 1,
  });
  assert.equal(event?.detail?.sessionsEnded, 1);
});

test("concurrent deletes of one connection answer 204 once and record one event", async () => {
  const connection = await connectAcme(gh, idp, organizationId);
  const before = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "connection.deleted",
    limit: 100,
  });
  const answers = await Promise.all(Array.from({ length: 12 }, () => deleteThroughApi(connection.id)));
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [204, ...Array.from({ length: 11 }, () => 404)]);
  const events = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "connection.deleted",
    limit: 100,
  });
  assert.equal(events.length - before.length, 1);
});

test("concurrent disables of one connection record one event", async () => {
  const connection = await connectAcme(gh, idp, organizationId, ["disable.acme.test"]);
  await Promise.all(
    Array.from({ length: 8 }, () =>
      disableConnection(gh.ctx, { organizationId, actorUserId: null }, connection.id),
    ),
  );
  const events = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "connection.disabled",
    limit: 100,
  });
  assert.equal(events.filter((e) => e.connectionId === connection.id).length, 1);
  await deleteThroughApi(connection.id);
});
