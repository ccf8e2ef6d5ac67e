/**
 * Disable, enable and "sign out everyone" of a connection, from the admin page and the API.
 * A disabled connection routes no one; its sessions end unless the admin keeps them.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { findConnectionById } from "../../src/store/connections.js";
import { Browser, csrfToken } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, ssoSignIn, startIdp } from "../support/sso.js";

const OIDC = "/admin/enterprise-authentication/oidc";
let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
let connectionId: string;
let admin: Browser;

before(async () => {
  gh = await startGatehouse();
  idp = await startIdp(gh);
  ({ organizationId } = await seedAcme(gh));
  connectionId = (await connectAcme(gh, idp, organizationId)).id;
  admin = new Browser();
  assert.equal((await ssoSignIn(admin, gh, idp, "admin@acme.test", "admin-password")).status, 303);
});
after(async () => {
  await idp.close();
  await gh.close();
});

async function signedIn(browser: Browser): Promise<boolean> {
  return (await browser.get(`${gh.url}/api/v1/me`)).status === 200;
}

async function alice(): Promise<Browser> {
  const browser = new Browser();
  assert.equal((await ssoSignIn(browser, gh, idp, "alice@acme.test", "alice-password")).status, 303);
  return browser;
}

async function events(type: string) {
  return listAuditEvents(gh.ctx.store.db, { organizationId, type, limit: 10 });
}

test("the admin page disables after a confirmation that ends the connection's sessions by default", async () => {
  const user = await alice();
  const confirm = await admin.get(`${gh.url}${OIDC}/${connectionId}/disable`);
  assert.equal(confirm.status, 200);
  assert.match(confirm.body, /name="end_sessions" value="1" checked/);
  const done = await admin.post(`${gh.url}${OIDC}/${connectionId}/disable`, {
    _csrf: csrfToken(confirm.body),
    end_sessions: "1",
  });
  assert.equal(done.status, 303);
  const page = await admin.get(done.location as string);
  assert.match(page.body, /data-testid="connection-status-changed"/);
  assert.match(page.body, /Acme Okta is disabled/);
  assert.match(page.body, /data-testid="enable-connection"/);
  assert.equal((await findConnectionById(gh.ctx.store.db, connectionId))?.status, "disabled");
  assert.equal(await signedIn(user), false, "the session the connection issued ended");
  assert.equal(await signedIn(admin), true, "the admin's own session is kept");
  const [event] = await events("connection.disabled");
  assert.equal(event?.detail?.sessionsEnded, 1);

  // No routing while disabled.
  const start = await new Browser().get(`${gh.url}/sso/start?email=alice@acme.test`);
  assert.equal(start.status, 404);
});

test("the admin page enables it again; routing resumes", async () => {
  const page = await admin.get(`${gh.url}${OIDC}`);
  const done = await admin.post(`${gh.url}${OIDC}/${connectionId}/enable`, { _csrf: csrfToken(page.body) });
  assert.equal(done.status, 303);
  assert.equal((await findConnectionById(gh.ctx.store.db, connectionId))?.status, "enabled");
  assert.equal((await events("connection.enabled")).length, 1);
  await alice();
});

test("sign out everyone who signed in through this connection, except the admin asking", async () => {
  const user = await alice();
  const confirm = await admin.get(`${gh.url}${OIDC}/${connectionId}/sign-out-everyone`);
  assert.equal(confirm.status, 200);
  const done = await admin.post(`${gh.url}${OIDC}/${connectionId}/sign-out-everyone`, {
    _csrf: csrfToken(confirm.body),
  });
  assert.equal(done.status, 303);
  assert.equal(await signedIn(user), false);
  assert.equal(await signedIn(admin), true);
  const [event] = await events("sessions.revoked_for_connection");
  assert.ok(Number(event?.detail?.sessionsEnded) >= 1);
});

test("API: disable keeping sessions, disable twice records one event, enable", async () => {
  const me = await admin.get(`${gh.url}/api/v1/me?include=csrfToken`);
  const csrf = (JSON.parse(me.body) as { csrfToken: string }).csrfToken;
  const call = (path: string, body?: unknown) =>
    fetch(`${gh.url}/api/v1/connections/${connectionId}/${path}`, {
      method: "POST",
      headers: {
        "x-csrf-token": csrf,
        cookie: [...admin.cookies()].map(([k, v]) => `${k}=${v}`).join("; "),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const user = await alice();
  const before = (await events("connection.disabled")).length;
  const disabled = await call("disable", { endSessions: false });
  assert.equal(disabled.status, 200);
  const view = (await disabled.json()) as { status: string; sessionsEnded: number };
  assert.equal(view.status, "disabled");
  assert.equal(view.sessionsEnded, 0);
  assert.equal(await signedIn(user), true, "kept on request");
  const again = await call("disable");
  assert.equal(again.status, 200, await again.clone().text());
  assert.equal(
    (await events("connection.disabled")).length,
    before + 1,
    "the second disable changed nothing",
  );
  assert.equal((await call("disable", { endSessions: "yes" })).status, 400);
  const enabled = await call("enable");
  assert.equal(enabled.status, 200);
  assert.equal(((await enabled.json()) as { status: string }).status, "enabled");
  const revoked = await call("sessions/revoke");
  assert.equal(revoked.status, 200);
  assert.equal(await signedIn(user), false);
});
