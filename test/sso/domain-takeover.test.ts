import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createConnection } from "../../src/connections/create.js";
import { hashToken } from "../../src/crypto/tokens.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { signInAtIdp } from "../support/sso.js";

/**
 * The account takeover that domain verification closes: an organization admin who controls an
 * IdP lists `gmail.test` on a connection without proving they own it. Nothing may follow from
 * that claim: no routing, no enforcement, no provisioning, no linking. Fails closed on each
 * database (GATEHOUSE_TEST_DATABASE=postgres runs it on PostgreSQL).
 */
let gh: TestGatehouse;
let idp: DevIdp;
let evilOrganizationId: string;
let carol: Browser;
const EVIL_ADMIN = { email: "admin@evil.test", password: "correct horse battery staple" };

async function signedInEmail(browser: Browser): Promise<string | undefined> {
  const home = await browser.get(`${gh.url}/`);
  return /data-field="email">([^<]+)</.exec(home.body)?.[1];
}

async function linkedinSignIn(browser: Browser, email: string, password: string) {
  const start = await browser.get(`${gh.url}/login/linkedin`);
  const back = await signInAtIdp(browser, start, idp, email, password, gh.url);
  return browser.get(back.location as string);
}

/** Signs in at the attacker's connection by its name, as the IdP user `email`. */
async function signInThroughEvilIdp(email: string, password: string) {
  const browser = new Browser();
  const start = await browser.get(
    `${gh.url}/sso/start?organization=evil&connection=${encodeURIComponent("Evil IdP")}`,
  );
  const back = await signInAtIdp(browser, start, idp, email, password, gh.url);
  return { browser, answer: await browser.get(back.location as string) };
}

async function userFacts(email: string) {
  const db = gh.ctx.store.db;
  const user = await db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
  if (!user) return undefined;
  const memberships = await db
    .selectFrom("memberships")
    .select("organization_id")
    .where("user_id", "=", user.id)
    .execute();
  const identities = await db
    .selectFrom("identities")
    .select("provider_key")
    .where("user_id", "=", user.id)
    .execute();
  return {
    organizations: memberships.map((m) => m.organization_id),
    providers: identities.map((i) => i.provider_key).sort(),
  };
}

before(async () => {
  const port = await freePort();
  const setup = demoIdpSetup(`http://localhost:${port}/`);
  idp = await startDevIdp({
    port: 0,
    clients: setup.clients,
    users: [...setup.users, { email: "dave@gmail.test", password: "dave-password", name: "Dave Doe" }],
  });
  gh = await startGatehouse({
    port,
    env: {
      GATEHOUSE_LINKEDIN_ISSUER: idp.issuer,
      GATEHOUSE_LINKEDIN_CLIENT_ID: "gatehouse-linkedin",
      GATEHOUSE_LINKEDIN_CLIENT_SECRET: "gatehouse-linkedin-secret",
    },
  });
  const evil = await createOrganizationWithAdmin(gh.ctx, {
    slug: "evil",
    name: "Evil",
    adminEmail: EVIL_ADMIN.email,
    adminPassword: EVIL_ADMIN.password,
  });
  evilOrganizationId = evil.organization.id;

  // Carol created her account with LinkedIn; it has no organization.
  carol = new Browser();
  assert.equal((await linkedinSignIn(carol, "carol@gmail.test", "carol-password")).status, 303);
  assert.equal(await signedInEmail(carol), "carol@gmail.test");

  // The attacker lists gmail.test on a connection to an IdP they control, next to a domain of
  // their own (so the connection can start a sign-in at all). Create accepts gmail.test, as
  // pending, and signs nobody out.
  await verifyDomainsAsOperator(gh, evilOrganizationId, ["evil.test"]);
  const admin = new Browser();
  await passwordSignIn(admin, gh.url, EVIL_ADMIN.email, EVIL_ADMIN.password);
  const created = await createConnection(gh.ctx, {
    organizationId: evilOrganizationId,
    input: {
      name: "Evil IdP",
      issuer: idp.issuer,
      clientId: "gatehouse-okta",
      clientSecret: "gatehouse-okta-secret",
      domains: ["evil.test", "gmail.test"],
    },
    actorUserId: evil.adminUserId,
    actorSessionHash: hashToken(admin.cookies().get("gh_session") as string),
  });
  assert.equal(created.revokedSessions, 0);
});

after(async () => {
  await idp.close();
  await gh.close();
});

test("creating the connection ended no session at the unverified domain", async () => {
  assert.equal(await signedInEmail(carol), "carol@gmail.test");
});

test("an unverified domain does not route: email-first sign-in goes to the password step", async () => {
  const browser = new Browser();
  const login = await browser.get(`${gh.url}/login`);
  const answer = await browser.post(`${gh.url}/login`, {
    _csrf: csrfToken(login.body),
    email: "carol@gmail.test",
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.location, undefined);
  assert.match(answer.body, /name="password"/);
  const start = await browser.get(`${gh.url}/sso/start?email=carol%40gmail.test`);
  assert.equal(start.status, 404);
});

test("a connection with no verified domain does not even start: the organization's sign-in URL refuses before the IdP", async () => {
  const other = await createOrganizationWithAdmin(gh.ctx, {
    slug: "pending-only",
    name: "Pending Only",
    adminEmail: "admin@pending-only.test",
    adminPassword: EVIL_ADMIN.password,
  });
  await createConnection(gh.ctx, {
    organizationId: other.organization.id,
    input: {
      name: "Pending IdP",
      issuer: idp.issuer,
      clientId: "gatehouse-okta",
      clientSecret: "gatehouse-okta-secret",
      domains: ["pending-only.test"],
    },
    actorUserId: other.adminUserId,
  });
  const browser = new Browser();
  const start = await browser.get(
    `${gh.url}/sso/start?organization=pending-only&connection=${encodeURIComponent("Pending IdP")}`,
  );
  assert.equal(start.status, 404);
  assert.equal(start.location, undefined);
  assert.match(start.body, /No single sign-on is set up for/);
  // Verified, the same connection starts.
  await verifyDomainsAsOperator(gh, other.organization.id, ["pending-only.test"]);
  const again = await browser.get(
    `${gh.url}/sso/start?organization=pending-only&connection=${encodeURIComponent("Pending IdP")}`,
  );
  assert.equal(again.status, 302);
  assert.ok(again.location?.startsWith(idp.issuer));
});

test("an unverified domain does not enforce: LinkedIn sign-in still works for its addresses", async () => {
  const browser = new Browser();
  const answer = await linkedinSignIn(browser, "carol@gmail.test", "carol-password");
  assert.equal(answer.status, 303, errorCode(answer.body));
  assert.equal(await signedInEmail(browser), "carol@gmail.test");
});

test("an unverified domain does not link: the IdP asserting an existing account's email is refused", async () => {
  const { browser, answer } = await signInThroughEvilIdp("carol@gmail.test", "carol-password");
  assert.equal(answer.status, 400);
  assert.equal(errorCode(answer.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
  assert.equal(await signedInEmail(browser), undefined);
  assert.deepEqual(await userFacts("carol@gmail.test"), { organizations: [], providers: ["linkedin"] });
  const [refusal] = await listAuditEvents(gh.ctx.store.db, {
    organizationId: evilOrganizationId,
    type: "sign_in.sso",
    limit: 1,
  });
  assert.equal(refusal?.outcome, "failure");
  assert.equal(refusal?.reasonCode, "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
  assert.match(JSON.stringify(refusal?.detail), /gmail\.test is listed on the connection but not verified/);
});

test("an unverified domain does not provision: a new address there gets no account", async () => {
  const { browser, answer } = await signInThroughEvilIdp("dave@gmail.test", "dave-password");
  assert.equal(errorCode(answer.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
  assert.equal(await signedInEmail(browser), undefined);
  assert.equal(await userFacts("dave@gmail.test"), undefined);
});

test("the same connection works once its organization owns the domain (the refusals above were the rule)", async () => {
  await verifyDomainsAsOperator(gh, evilOrganizationId, ["gmail.test"]);
  const { browser, answer } = await signInThroughEvilIdp("dave@gmail.test", "dave-password");
  assert.equal(answer.status, 303, errorCode(answer.body));
  assert.equal(await signedInEmail(browser), "dave@gmail.test");
  assert.deepEqual((await userFacts("dave@gmail.test"))?.organizations, [evilOrganizationId]);
});
