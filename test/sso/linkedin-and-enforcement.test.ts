import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createConnection } from "../../src/connections/create.js";
import { deleteConnection } from "../../src/connections/delete.js";
import { hashPassword } from "../../src/crypto/password.js";
import { hashToken } from "../../src/crypto/tokens.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { insertMembership } from "../../src/store/organizations.js";
import { insertUser, setPassword } from "../../src/store/users.js";
import { Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, acmeOktaInput, seedAcme, signInAtIdp, startGatehouseWithIdp } from "../support/sso.js";

let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
const BOB_PASSWORD = "bob has a long password";

before(async () => {
  ({ gh, idp } = await startGatehouseWithIdp());
  ({ organizationId } = await seedAcme(gh));
  const now = Date.now();
  const bob = await insertUser(gh.ctx.store.db, { email: "bob@acme.test", name: "Bob" }, now);
  await setPassword(gh.ctx.store.db, bob.id, await hashPassword(BOB_PASSWORD), now);
  await insertMembership(gh.ctx.store.db, { organizationId, userId: bob.id, role: "member" }, now);
});
after(async () => {
  await idp.close();
  await gh.close();
});

async function signedInEmail(browser: Browser): Promise<string | undefined> {
  const home = await browser.get(`${gh.url}/`);
  return /data-field="email">([^<]+)</.exec(home.body)?.[1];
}

async function linkedinSignIn(browser: Browser, email: string, password: string) {
  const login = await browser.get(`${gh.url}/login`);
  assert.match(login.body, /Continue with LinkedIn/);
  const start = await browser.get(`${gh.url}/login/linkedin`);
  const back = await signInAtIdp(browser, start, idp, email, password, gh.url);
  assert.ok(back.location?.startsWith(`${gh.url}/login/linkedin/callback?`));
  return browser.get(back.location as string);
}

test("the password step offers LinkedIn to those without a password, in the same words for every address", async () => {
  const step = async (email: string) => {
    const browser = new Browser();
    const login = await browser.get(`${gh.url}/login?return_to=%2Fadmin`);
    const answer = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(login.body),
      email,
      return_to: "/admin",
    });
    assert.equal(answer.status, 200);
    const help = /<p class="auth-links muted" data-testid="no-password-help">([\s\S]*?)<\/p>/.exec(
      answer.body,
    )?.[1];
    assert.ok(help, `no help for ${email}`);
    return help;
  };
  const carol = await step("carol@gmail.test");
  assert.match(carol, /<a href="\/login\/linkedin\?return_to=%2Fadmin">continue with LinkedIn<\/a>/);
  assert.match(carol, /Forgot your password\? Ask your organization's administrator\./);
  assert.equal(await step("nobody@nowhere.test"), carol, "the same for an address without an account");
});

test("a LinkedIn user outside any SSO domain gets an account without an organization", async () => {
  const browser = new Browser();
  const answer = await linkedinSignIn(browser, "carol@gmail.test", "carol-password");
  assert.equal(answer.status, 303);
  assert.equal(await signedInEmail(browser), "carol@gmail.test");
  const row = await gh.ctx.store.db
    .selectFrom("users")
    .leftJoin("memberships", "memberships.user_id", "users.id")
    .select(["users.email", "memberships.organization_id"])
    .where("users.email", "=", "carol@gmail.test")
    .executeTakeFirstOrThrow();
  assert.equal(row.organization_id, null);
});

test("creating a connection ends other users' password sessions at its domain, but not the creating admin's", async () => {
  const admin = new Browser();
  await passwordSignIn(admin, gh.url, ADMIN.email, ADMIN.password);
  const bob = new Browser();
  await passwordSignIn(bob, gh.url, "bob@acme.test", BOB_PASSWORD);
  assert.equal(await signedInEmail(bob), "bob@acme.test");
  const adminCookie = admin.cookies().get("gh_session") as string;
  const created = await createConnection(gh.ctx, {
    organizationId,
    input: acmeOktaInput(idp),
    actorUserId: null,
    actorSessionHash: hashToken(adminCookie),
  });
  assert.equal(created.revokedSessions, 1);
  assert.equal(await signedInEmail(bob), undefined, "Bob's password session ended");
  assert.equal(await signedInEmail(admin), ADMIN.email, "the creating admin still sees the confirmation");
});

test("password and LinkedIn sign-in are refused under enforcement; both work again after deletion", async () => {
  const browser = new Browser();
  const refusedPassword = await passwordSignIn(browser, gh.url, "bob@acme.test", BOB_PASSWORD);
  // Email-first routes Bob to his IdP; the password step itself refuses too.
  assert.equal(refusedPassword.status, 303);
  assert.ok(refusedPassword.location?.startsWith(idp.issuer));
  const login = await browser.get(`${gh.url}/login`);
  const direct = await browser.post(`${gh.url}/login/password`, {
    _csrf: csrfToken(login.body),
    email: "bob@acme.test",
    password: BOB_PASSWORD,
  });
  assert.equal(errorCode(direct.body), "AUTH_SSO_REQUIRED");

  const refusedLinkedin = await linkedinSignIn(browser, "alice@acme.test", "alice-password");
  assert.equal(refusedLinkedin.status, 403);
  assert.equal(errorCode(refusedLinkedin.body), "AUTH_SSO_REQUIRED");
  assert.match(refusedLinkedin.body, /Continue with SSO/);
  assert.equal(await signedInEmail(browser), undefined);
  const [event] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "sign_in.linkedin",
    limit: 1,
  });
  assert.equal(event?.reasonCode, "AUTH_SSO_REQUIRED");
  assert.equal(
    await gh.ctx.store.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "alice@acme.test")
      .executeTakeFirst(),
    undefined,
  );

  const [connection] = await gh.ctx.store.db.selectFrom("connections").select("id").execute();
  await deleteConnection(gh.ctx, { organizationId, actorUserId: null }, connection!.id);

  const again = new Browser();
  assert.equal((await passwordSignIn(again, gh.url, "bob@acme.test", BOB_PASSWORD)).status, 303);
  assert.equal(await signedInEmail(again), "bob@acme.test");
  const social = new Browser();
  assert.equal((await linkedinSignIn(social, "alice@acme.test", "alice-password")).status, 303);
  assert.equal(await signedInEmail(social), "alice@acme.test");
});
