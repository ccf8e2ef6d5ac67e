import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { createInvitation, resendInvitation } from "../../src/accounts/invitations.js";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { INVITATION_TTL_MS } from "../../src/domain/people.js";
import { findInvitation } from "../../src/store/invitations.js";
import { Browser, csrfToken, errorCode } from "../support/browserless.js";
import { type TestDatabase, withEachDatabase } from "../support/databases.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

const PASSWORD = "a long enough password";

function tokenOf(link: string): string {
  const token = new URL(link).searchParams.get("token");
  assert.ok(token, `no token in ${link}`);
  return token;
}

/** Opens the link, sets the password; returns the answer to the form. */
async function accept(browser: Browser, link: string, password = PASSWORD) {
  const page = await browser.get(link);
  assert.equal(page.status, 200, page.body);
  return browser.post(new URL("/invitation", link).toString(), {
    _csrf: csrfToken(page.body),
    token: tokenOf(link),
    name: "Iris Invited",
    password,
  });
}

async function me(browser: Browser, gh: TestGatehouse) {
  const answer = await browser.get(`${gh.url}/api/v1/me`);
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

withEachDatabase("Invitations: one-time setup links", (dialect) => {
  let database: TestDatabase;
  let gh: TestGatehouse;
  let organizationId: string;
  let ownerLink: string;

  before(async () => {
    database = await dialect.create();
    gh = await startGatehouse({ databaseUrl: database.url, env: database.env });
    const created = await createOrganizationWithAdmin(gh.ctx, {
      slug: "acme",
      name: "Acme",
      adminEmail: "owner@acme.test",
    });
    assert.ok(created.setupLink);
    organizationId = created.organization.id;
    ownerLink = created.setupLink;
  });
  after(async () => {
    await gh?.close();
    await database?.drop();
  });

  test("a setup link carries 256 bits from the CSPRNG and only its SHA-256 is stored", async () => {
    const token = tokenOf(ownerLink);
    assert.ok(Buffer.from(token, "base64url").length >= 16, "at least 128 bits");
    assert.equal(Buffer.from(token, "base64url").length, 32);
    const rows = await database.store.db.selectFrom("invitations").selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.token_hash, createHash("sha256").update(token).digest("base64url"));
    const stored = JSON.stringify(
      await Promise.all(
        ["invitations", "audit_events"].map((t) =>
          database.store.db
            .selectFrom(t as "invitations")
            .selectAll()
            .execute(),
        ),
      ),
    );
    assert.ok(!stored.includes(token), "the token itself is in no table");
    assert.ok(!gh.logs.join("").includes(token), "nor in a log line");
    const other = await createInvitation(gh.ctx, {
      organizationId,
      email: "x@acme.test",
      role: "member",
      invitedByUserId: null,
    });
    assert.notEqual(tokenOf(other.link), token);
  });

  test("the owner sets a password through the link, is signed in, and the link then answers used", async () => {
    const browser = new Browser();
    const accepted = await accept(browser, ownerLink);
    assert.equal(accepted.status, 303);
    assert.equal(new URL(accepted.location ?? "").pathname, "/");
    const who = await me(browser, gh);
    assert.equal(who.status, 200);
    assert.equal(who.body.role, "owner");
    assert.deepEqual((who.body.user as { email: string }).email, "owner@acme.test");

    const again = await new Browser().get(ownerLink);
    assert.equal(again.status, 410);
    assert.equal(errorCode(again.body), "INVITATION_USED");

    // The form sent a second time (another tab) is refused too, and makes no second account.
    const replay = await browser.post(`${gh.url}/invitation`, {
      _csrf: csrfToken((await browser.get(`${gh.url}/`)).body),
      token: tokenOf(ownerLink),
      password: PASSWORD,
    });
    assert.equal(replay.status, 410);
    assert.equal(errorCode(replay.body), "INVITATION_USED");
    const users = await database.store.db.selectFrom("users").select("email").execute();
    assert.deepEqual(users, [{ email: "owner@acme.test" }]);
    const events = await database.store.db
      .selectFrom("audit_events")
      .select("type")
      .where("type", "like", "invitation.%")
      .orderBy("created_at")
      .execute();
    assert.ok(events.some((e) => e.type === "invitation.accepted"));
  });

  test("a link works until 72 hours have passed and not after", async () => {
    const { link } = await createInvitation(gh.ctx, {
      organizationId,
      email: "late@acme.test",
      role: "member",
      invitedByUserId: null,
    });
    gh.advance(INVITATION_TTL_MS - 60_000);
    try {
      assert.equal((await new Browser().get(link)).status, 200);
      gh.advance(60_000);
      const expired = await new Browser().get(link);
      assert.equal(expired.status, 410);
      assert.equal(errorCode(expired.body), "INVITATION_EXPIRED");
      assert.match(expired.body, /Ask your administrator to send you a new one/);
    } finally {
      gh.advance(-INVITATION_TTL_MS);
    }
  });

  test("a link that matches nothing, or none at all, answers not valid", async () => {
    for (const url of [
      `${gh.url}/invitation?token=${"A".repeat(43)}`,
      `${gh.url}/invitation?token=short`,
      `${gh.url}/invitation`,
    ]) {
      const answer = await new Browser().get(url);
      assert.equal(answer.status, 404, url);
      assert.equal(errorCode(answer.body), "INVITATION_NOT_FOUND");
    }
  });

  test("resending makes a new link and withdraws the old one", async () => {
    const first = await createInvitation(gh.ctx, {
      organizationId,
      email: "twice@acme.test",
      role: "admin",
      invitedByUserId: null,
    });
    const stored = await findInvitation(gh.ctx.store.db, organizationId, first.invitation.id);
    assert.ok(stored);
    const second = await resendInvitation(gh.ctx, organizationId, stored, null);
    const old = await new Browser().get(first.link);
    assert.equal(old.status, 410);
    assert.equal(errorCode(old.body), "INVITATION_REVOKED");
    const browser = new Browser();
    assert.equal((await accept(browser, second.link)).status, 303);
    assert.equal((await me(browser, gh)).body.role, "admin");
  });

  test("a weak password is refused on the form, and the link still works afterwards", async () => {
    const { link } = await createInvitation(gh.ctx, {
      organizationId,
      email: "weak@acme.test",
      role: "member",
      invitedByUserId: null,
    });
    const browser = new Browser();
    const weak = await accept(browser, link, "short");
    assert.equal(weak.status, 400);
    assert.match(weak.body, /at least 12 characters/);
    assert.equal((await me(browser, gh)).status, 401);
    assert.equal((await accept(browser, link)).status, 303);
    assert.equal((await me(browser, gh)).body.role, "member");
  });

  test("an address that already has an account cannot be invited", async () => {
    await assert.rejects(
      createInvitation(gh.ctx, {
        organizationId,
        email: "owner@acme.test",
        role: "member",
        invitedByUserId: null,
      }),
      (error: { code?: string }) => error.code === "CONFLICT",
    );
  });
});
