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

/** Disable's and Delete's words for acme.test: the admin has a password, Alice has neither. */
const STRANDED_ONE = (until: string) =>
  new RegExp(
    `Of the 2 people at acme\\.test, 1 can sign in with a password or LinkedIn instead; <strong data-testid="people-without-other-sign-in">1 has neither: they will not be able to sign in ${until.replaceAll(".", "\\.")}\\.</strong> Accounts that single sign-on created have no password, and Gatehouse cannot send them a setup link`,
  );

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
  // The admin has a password from before the connection; Alice was created by single sign-on
  // and has none: she is told about, not promised a password step she cannot pass.
  assert.match(confirm.body, STRANDED_ONE("until you enable it again"));
  assert.doesNotMatch(confirm.body, /use their password or LinkedIn/);
  const done = await admin.post(`${gh.url}${OIDC}/${connectionId}/disable`, {
    _csrf: csrfToken(confirm.body),
    end_sessions: "1",
  });
  assert.equal(done.status, 303);
  const page = await admin.get(done.location as string);
  assert.match(page.body, /data-testid="connection-status-changed"/);
  assert.match(page.body, /Acme Okta is disabled/);
  assert.match(page.body, STRANDED_ONE("until you enable it again"));
  // The confirmation is green; who is left without a way in is not.
  const banner =
    /<div class="alert alert-success"[^>]*data-testid="connection-status-changed">[\s\S]*?<\/div>/.exec(
      page.body,
    )?.[0];
  assert.ok(banner);
  assert.doesNotMatch(banner, /has neither/);
  assert.match(page.body, /<div class="alert alert-error" role="note" data-testid="people-left">/);
  assert.match(page.body, /data-testid="enable-connection"/);
  assert.equal((await findConnectionById(gh.ctx.store.db, connectionId))?.status, "disabled");
  assert.equal(await signedIn(user), false, "the session the connection issued ended");
  assert.equal(await signedIn(admin), true, "the admin's own session is kept");
  const [event] = await events("connection.disabled");
  assert.equal(event?.detail?.sessionsEnded, 1);
  assert.equal(event?.detail?.peopleWithPasswordOrLinkedIn, 1);
  assert.equal(event?.detail?.peopleWithNeither, 1);

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

test("Delete says, before and after the click, who will not be able to sign in", async () => {
  await alice();
  const until = "until a connection for acme.test exists again";
  const page = await admin.get(`${gh.url}${OIDC}`);
  const dialog = /<dialog class="dialog" id="delete-dialog-[\s\S]*?<\/dialog>/.exec(page.body)?.[0];
  assert.ok(dialog, "the connection's page carries the Delete dialog");
  assert.match(dialog, STRANDED_ONE(until));
  const confirm = await admin.get(`${gh.url}${OIDC}/${connectionId}/delete`);
  assert.equal(confirm.status, 200);
  assert.match(confirm.body, STRANDED_ONE(until));
  assert.doesNotMatch(confirm.body, /will sign in with their password or LinkedIn again/);

  const deleted = await admin.post(`${gh.url}${OIDC}/${connectionId}/delete`, {
    _csrf: csrfToken(confirm.body),
  });
  assert.equal(deleted.status, 303);
  const after = await admin.get(deleted.location as string);
  assert.match(after.body, /The connection Acme Okta was deleted\./);
  assert.match(after.body, STRANDED_ONE(until));
  assert.doesNotMatch(after.body, /sign in with their password or LinkedIn again/);
  const [event] = await events("connection.deleted");
  assert.equal(event?.detail?.peopleWithPasswordOrLinkedIn, 1);
  assert.equal(event?.detail?.peopleWithNeither, 1);

  // What was said holds: Alice's password step refuses her; People says she cannot sign in.
  const people = await admin.get(`${gh.url}/admin/people`);
  const row = /<tr data-user-id="[^"]+" data-email="alice@acme\.test"[\s\S]*?<\/tr>/.exec(people.body)?.[0];
  assert.ok(row);
  assert.match(row, /data-field="sign-in-now">Cannot sign in</);
});
