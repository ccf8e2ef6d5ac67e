/**
 * Issue 10, item 11: `sessions.id_token` was stored in clear, and a session lived its whole
 * lifetime however long it went unused.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { loadConfig } from "../../src/config.js";
import { hashToken, randomToken } from "../../src/crypto/tokens.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { createContext } from "../../src/server/context-factory.js";
import { sessionCookieName } from "../../src/session/cookie.js";
import { insertSession, sessionIdTokenContext } from "../../src/store/sessions.js";
import { Browser, csrfToken, passwordSignIn } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, ssoSignIn, startGatehouseWithIdp } from "../support/sso.js";

let gh: TestGatehouse;
let idp: DevIdp;
let connectionId: string;

before(async () => {
  ({ gh, idp } = await startGatehouseWithIdp({ env: { GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: "600" } }));
  const { organizationId } = await seedAcme(gh);
  connectionId = (await connectAcme(gh, idp, organizationId)).id;
});
after(async () => {
  await gh.close();
  await idp.close();
});

async function signedInEmail(browser: Browser): Promise<string | undefined> {
  const home = await browser.get(`${gh.url}/`);
  return /data-field="email">([^<]+)</.exec(home.body)?.[1];
}

async function signOutTarget(browser: Browser): Promise<URL> {
  const home = await browser.get(`${gh.url}/`);
  const out = await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
  assert.equal(out.status, 303);
  return new URL(out.location as string);
}

describe("the session's ID token", () => {
  test("is stored sealed, bound to its session, and still gives sign-out its id_token_hint", async () => {
    const browser = new Browser();
    await ssoSignIn(browser, gh, idp, "alice@acme.test", "alice-password");
    const rows = await gh.ctx.store.db
      .selectFrom("sessions")
      .select(["id_hash", "id_token", "id_token_sealed"])
      .where("connection_id", "=", connectionId)
      .where("revoked_at", "is", null)
      .execute();
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.equal(row?.id_token, null);
    assert.match(row?.id_token_sealed ?? "", /^v1\./);
    assert.doesNotMatch(row?.id_token_sealed ?? "", /eyJ/);
    const token = gh.ctx.box.open(row?.id_token_sealed ?? "", sessionIdTokenContext(row?.id_hash ?? ""));
    // Another session's context does not open it: a sealed value copied to another row is useless.
    assert.throws(() => gh.ctx.box.open(row?.id_token_sealed ?? "", sessionIdTokenContext("another")));
    const target = await signOutTarget(browser);
    assert.equal(target.origin, idp.issuer);
    assert.equal(target.searchParams.get("id_token_hint"), token);
    const ended = await gh.ctx.store.db
      .selectFrom("sessions")
      .select("id_token_sealed")
      .where("id_hash", "=", row?.id_hash ?? "")
      .executeTakeFirst();
    assert.equal(ended?.id_token_sealed, null, "a revoked session keeps no ID token");
  });

  test("a session from before the upgrade, with its ID token in clear, is sealed at start-up and signs out as before", async () => {
    const token = randomToken();
    const idHash = hashToken(token);
    const user = await gh.ctx.store.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "alice@acme.test")
      .executeTakeFirstOrThrow();
    const now = gh.ctx.now();
    await insertSession(gh.ctx.store.db, {
      idHash,
      userId: user.id,
      organizationId: null,
      method: "sso",
      connectionId,
      idTokenSealed: null,
      idpSid: null,
      createdAt: now,
      expiresAt: now + 3600_000,
    });
    await gh.ctx.store.db
      .updateTable("sessions")
      .set({ id_token: "eyJ.legacy.token" })
      .where("id_hash", "=", idHash)
      .execute();
    // Another instance (or the next start) opens the same database: it seals what it finds.
    const restarted = await createContext(gh.ctx.config, { now: gh.ctx.now });
    await restarted.store.close();
    const row = await gh.ctx.store.db
      .selectFrom("sessions")
      .select(["id_token", "id_token_sealed"])
      .where("id_hash", "=", idHash)
      .executeTakeFirstOrThrow();
    assert.equal(row.id_token, null);
    assert.equal(
      gh.ctx.box.open(row.id_token_sealed ?? "", sessionIdTokenContext(idHash)),
      "eyJ.legacy.token",
    );
    const browser = new Browser();
    browser.cookies().set(sessionCookieName(gh.ctx.config), token);
    const target = await signOutTarget(browser);
    assert.equal(target.searchParams.get("id_token_hint"), "eyJ.legacy.token");
  });
});

// Password sign-ins: the tests move the clock, which an IdP's ID tokens would not follow.
const BETA = { email: "owner@beta.test", password: "correct horse battery staple" };

describe("the idle timeout", () => {
  before(async () => {
    await createOrganizationWithAdmin(gh.ctx, {
      slug: "beta",
      name: "Beta",
      adminEmail: BETA.email,
      adminPassword: BETA.password,
    });
  });

  test("a session unused for GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS ends; each use within it keeps it", async () => {
    const browser = new Browser();
    await passwordSignIn(browser, gh.url, BETA.email, BETA.password);
    gh.advance(9 * 60_000);
    assert.equal(await signedInEmail(browser), BETA.email);
    gh.advance(9 * 60_000);
    assert.equal(await signedInEmail(browser), BETA.email, "18 minutes old, last used 9 minutes ago");
    gh.advance(10 * 60_000 + 1000);
    assert.equal(await signedInEmail(browser), undefined, "unused for 10 minutes");
  });

  test("the last use is written at most once a minute, not on every request", async () => {
    const browser = new Browser();
    await passwordSignIn(browser, gh.url, BETA.email, BETA.password);
    const lastSeen = async () =>
      (
        await gh.ctx.store.db
          .selectFrom("sessions")
          .innerJoin("users", "users.id", "sessions.user_id")
          .select("last_seen_at")
          .where("users.email", "=", BETA.email)
          .orderBy("sessions.created_at", "desc")
          .limit(1)
          .executeTakeFirstOrThrow()
      ).last_seen_at;
    const signedInAt = await lastSeen();
    gh.advance(30_000);
    await signedInEmail(browser);
    assert.equal(await lastSeen(), signedInAt, "30 s later: nothing written");
    gh.advance(31_000);
    await signedInEmail(browser);
    const touched = await lastSeen();
    assert.ok(
      touched !== null && signedInAt !== null && touched > signedInAt,
      "a minute later: written once",
    );
    gh.advance(20_000);
    await signedInEmail(browser);
    assert.equal(await lastSeen(), touched);
  });

  test("GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS defaults to 2 hours and refuses less than 2 minutes", () => {
    assert.equal(loadConfig({}).sessionIdleTimeoutSeconds, 7200);
    assert.throws(
      () => loadConfig({ GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: "60" }),
      /GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS/,
    );
  });
});
