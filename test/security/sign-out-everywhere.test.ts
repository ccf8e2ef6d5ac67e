/**
 * Issue 10, item 5: nothing could end a person's or an organization's sessions but deleting a
 * connection. "Sign out everywhere" per member and "sign out everyone" per organization, through
 * the API and the CLI; each ends only sessions opened in the caller's organization.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import { hashToken, randomToken } from "../../src/crypto/tokens.js";
import { checkSession } from "../../src/session/validate.js";
import { insertMembership } from "../../src/store/organizations.js";
import { insertSession } from "../../src/store/sessions.js";
import { insertUser } from "../../src/store/users.js";
import { Browser, csrfToken, passwordSignIn } from "../support/browserless.js";
import { runGatehouseCli } from "../support/cli.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

let gh: TestGatehouse;
let acme: { id: string; key: string; adminId: string; memberId: string };
let beta: { id: string; key: string; adminId: string };

before(async () => {
  gh = await startGatehouse();
  const password = "a long enough pass phrase";
  const a = await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: "owner@acme.test",
    adminPassword: password,
  });
  const b = await createOrganizationWithAdmin(gh.ctx, {
    slug: "beta",
    name: "Beta",
    adminEmail: "owner@beta.test",
    adminPassword: password,
  });
  const member = await insertUser(gh.ctx.store.db, { email: "ada@acme.test", name: "Ada" }, gh.ctx.now());
  await insertMembership(
    gh.ctx.store.db,
    { organizationId: a.organization.id, userId: member.id, role: "member" },
    gh.ctx.now(),
  );
  acme = {
    id: a.organization.id,
    key: (await createApiKey(gh.ctx, "acme", "ci")).key,
    adminId: a.adminUserId ?? "",
    memberId: member.id,
  };
  beta = {
    id: b.organization.id,
    key: (await createApiKey(gh.ctx, "beta", "ci")).key,
    adminId: b.adminUserId ?? "",
  };
});
after(() => gh.close());

/** A live session of `userId` in `organizationId`, written directly; returns its id hash. */
async function session(userId: string, organizationId: string | null): Promise<string> {
  const idHash = hashToken(randomToken());
  const now = gh.ctx.now();
  await insertSession(gh.ctx.store.db, {
    idHash,
    userId,
    organizationId,
    method: "password",
    connectionId: null,
    idTokenSealed: null,
    idpSid: null,
    createdAt: now,
    expiresAt: now + 3600_000,
  });
  return idHash;
}

const live = async (idHash: string) => (await checkSession(gh.ctx, idHash)) !== undefined;

async function post(path: string, key: string) {
  const response = await fetch(`${gh.url}/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}` },
  });
  return {
    status: response.status,
    body: (await response.json()) as { sessionsEnded?: number; code?: string },
  };
}

test("POST /api/v1/users/{id}/sessions/revoke ends that member's sessions in the organization, and only those", async () => {
  const laptop = await session(acme.memberId, acme.id);
  const phone = await session(acme.memberId, acme.id);
  const elsewhere = await session(acme.memberId, null); // a LinkedIn session outside any organization
  const admin = await session(acme.adminId, acme.id);
  const answer = await post(`/users/${acme.memberId}/sessions/revoke`, acme.key);
  assert.equal(answer.status, 200);
  assert.equal(answer.body.sessionsEnded, 2);
  assert.deepEqual(await Promise.all([laptop, phone, elsewhere, admin].map(live)), [
    false,
    false,
    true,
    true,
  ]);
  const [event] = await gh.ctx.store.db
    .selectFrom("audit_events")
    .select(["type", "email"])
    .where("type", "=", "sessions.revoked_for_user")
    .execute();
  assert.deepEqual(event, { type: "sessions.revoked_for_user", email: "ada@acme.test" });
});

test("another organization's member is not found, and keeps their sessions", async () => {
  const theirs = await session(beta.adminId, beta.id);
  const answer = await post(`/users/${beta.adminId}/sessions/revoke`, acme.key);
  assert.equal(answer.status, 404);
  assert.equal(answer.body.code, "NOT_FOUND");
  assert.equal(await live(theirs), true);
});

test("POST /api/v1/sessions/revoke signs everyone in the organization out, and no one in another", async () => {
  const ours = [await session(acme.memberId, acme.id), await session(acme.adminId, acme.id)];
  const theirs = await session(beta.adminId, beta.id);
  const answer = await post("/sessions/revoke", acme.key);
  assert.equal(answer.status, 200);
  assert.ok((answer.body.sessionsEnded ?? 0) >= 2);
  assert.deepEqual(await Promise.all(ours.map(live)), [false, false]);
  assert.equal(await live(theirs), true);
});

test("gatehouse org sign-out, for the organization or one member", async () => {
  const env: Record<string, string> = { GATEHOUSE_DATABASE_URL: gh.ctx.config.databaseUrl };
  if (gh.ctx.config.secretKey) env.GATEHOUSE_SECRET_KEY = gh.ctx.config.secretKey;
  const member = await session(acme.memberId, acme.id);
  const admin = await session(acme.adminId, acme.id);
  const one = await runGatehouseCli(
    env,
    "org",
    "sign-out",
    "--slug",
    "acme",
    "--email",
    "ada@acme.test",
    "--json",
  );
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout), { sessionsEnded: 1 });
  assert.deepEqual([await live(member), await live(admin)], [false, true]);
  const all = await runGatehouseCli(env, "org", "sign-out", "--slug", "acme");
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^1 session\(s\) ended\.$/m);
  // The CLI is another process: its change reaches this instance's cache as another instance's
  // would, within milliseconds rather than before the command exits.
  await gh.ctx.sessionCache.caughtUp();
  assert.equal(await live(admin), false);
  const unknown = await runGatehouseCli(env, "org", "sign-out", "--slug", "nowhere");
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /nowhere/);
});

test("Administration > People: sign a member out everywhere, then everyone; the admin's own session stays", async () => {
  const browser = new Browser();
  const signedIn = await passwordSignIn(browser, gh.url, "owner@acme.test", "a long enough pass phrase");
  assert.equal(signedIn.status, 303);
  const member = await session(acme.memberId, acme.id);
  const otherAdminSession = await session(acme.adminId, acme.id);
  const page = await browser.get(`${gh.url}/admin/people`);
  assert.match(page.body, /data-testid="sign-out-everyone"/);
  const one = await browser.post(`${gh.url}/admin/people/${acme.memberId}/sign-out`, {
    _csrf: csrfToken(page.body),
  });
  assert.equal(one.status, 303);
  assert.equal(await live(member), false);
  assert.equal(await live(otherAdminSession), true);
  const again = await browser.get(`${gh.url}/admin/people?done=signed-out`);
  assert.match(again.body, /Signed the member out everywhere/);
  const all = await browser.post(`${gh.url}/admin/people/sign-out-everyone`, {
    _csrf: csrfToken(again.body),
  });
  assert.equal(all.status, 303);
  assert.equal(await live(otherAdminSession), false);
  const after = await browser.get(`${gh.url}/admin/people?done=signed-out-everyone`);
  assert.equal(after.status, 200, "the admin who asked is still signed in");
  assert.match(after.body, /Signed everyone out/);
});
