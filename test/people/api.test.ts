import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey, createOperatorApiKey } from "../../src/api/keys.js";
import { Browser, csrfToken, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

const PASSWORD = "correct horse battery";

async function call(gh: TestGatehouse, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${gh.url}${path}`, {
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

/** Sets a password through a setup link in a fresh browser; returns that browser, signed in. */
async function acceptLink(link: string, password = PASSWORD): Promise<Browser> {
  const browser = new Browser();
  const page = await browser.get(link);
  assert.equal(page.status, 200, page.body);
  const token = new URL(link).searchParams.get("token") ?? "";
  const done = await browser.post(new URL("/invitation", link).toString(), {
    _csrf: csrfToken(page.body),
    token,
    password,
  });
  assert.equal(done.status, 303, done.body);
  return browser;
}

describe("Organizations and people through the API", () => {
  let gh: TestGatehouse;
  let operatorKey: string;
  let acmeKey: string;

  before(async () => {
    gh = await startGatehouse();
    operatorKey = (await createOperatorApiKey(gh.ctx, "platform")).key;
    await createOrganizationWithAdmin(gh.ctx, {
      slug: "acme",
      name: "Acme",
      adminEmail: "admin@acme.test",
      adminPassword: PASSWORD,
    });
    acmeKey = (await createApiKey(gh.ctx, "acme", "ci")).key;
  });
  after(async () => gh?.close());

  test("an operator creates an organization; the first owner's setup link is in that answer only", async () => {
    const created = await call(gh, operatorKey, "POST", "/api/v1/organizations", {
      slug: "globex",
      name: "Globex",
      adminEmail: "It@Globex.test",
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const invitation = created.body.invitation as Record<string, string>;
    assert.equal(invitation.email, "it@globex.test");
    assert.equal(invitation.role, "owner");
    assert.equal(invitation.state, "pending");
    assert.match(invitation.setupLink ?? "", /\/invitation\?token=[A-Za-z0-9_-]{43}$/);

    const one = await call(gh, operatorKey, "GET", `/api/v1/organizations/${created.body.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.slug, "globex");
    assert.ok(!JSON.stringify(one.body).includes("setupLink"));

    const list = await call(gh, operatorKey, "GET", "/api/v1/organizations?limit=1");
    assert.deepEqual(
      (list.body.data as { slug: string }[]).map((o) => o.slug),
      ["acme"],
    );
    assert.equal(typeof list.body.next, "string");
    const rest = await call(gh, operatorKey, "GET", `/api/v1/organizations?limit=1&after=${list.body.next}`);
    assert.deepEqual(
      (rest.body.data as { slug: string }[]).map((o) => o.slug),
      ["globex"],
    );
    assert.equal(rest.body.next, null);

    const browser = await acceptLink(invitation.setupLink ?? "");
    const me = JSON.parse((await browser.get(`${gh.url}/api/v1/me`)).body) as { role: string };
    assert.equal(me.role, "owner");
  });

  test("organizations answer only operator keys, and refuse bad input by field", async () => {
    assert.equal((await call(gh, acmeKey, "GET", "/api/v1/organizations")).status, 403);
    assert.equal((await call(gh, acmeKey, "POST", "/api/v1/organizations", {})).status, 403);
    const bad = await call(gh, operatorKey, "POST", "/api/v1/organizations", {
      slug: "Bad Slug",
      name: "X",
      adminEmail: "nope",
      adminPassword: "not taken here",
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(bad.body.fields as object).sort(), ["adminPassword"]);
    const fields = (
      await call(gh, operatorKey, "POST", "/api/v1/organizations", {
        slug: "Bad Slug",
        name: "X",
        adminEmail: "nope",
      })
    ).body.fields as Record<string, string>;
    assert.deepEqual(Object.keys(fields).sort(), ["adminEmail", "slug"]);
    const taken = await call(gh, operatorKey, "POST", "/api/v1/organizations", {
      slug: "acme",
      name: "Again",
      adminEmail: "new@acme.test",
    });
    assert.equal(taken.status, 409);
    const missing = await call(
      gh,
      operatorKey,
      "GET",
      "/api/v1/organizations/00000000-0000-4000-8000-000000000000",
    );
    assert.equal(missing.status, 404);
  });

  test("an organization invites, lists, resends and revokes invitations", async () => {
    const created = await call(gh, acmeKey, "POST", "/api/v1/invitations", {
      email: "new@acme.test",
      role: "admin",
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const listed = await call(gh, acmeKey, "GET", "/api/v1/invitations");
    assert.deepEqual(
      (listed.body.data as { email: string; role: string }[]).map((i) => [i.email, i.role]),
      [["new@acme.test", "admin"]],
    );
    assert.ok(!JSON.stringify(listed.body).includes("setupLink"), "a link is never listed");

    const resent = await call(gh, acmeKey, "POST", `/api/v1/invitations/${created.body.id}/resend`);
    assert.equal(resent.status, 201);
    assert.notEqual(resent.body.setupLink, created.body.setupLink);
    assert.equal((await new Browser().get(created.body.setupLink as string)).status, 410);

    assert.equal((await call(gh, acmeKey, "DELETE", `/api/v1/invitations/${resent.body.id}`)).status, 204);
    assert.equal((await new Browser().get(resent.body.setupLink as string)).status, 410);
    assert.deepEqual((await call(gh, acmeKey, "GET", "/api/v1/invitations")).body.data, []);
    assert.equal((await call(gh, acmeKey, "DELETE", `/api/v1/invitations/${resent.body.id}`)).status, 404);

    const badRole = await call(gh, acmeKey, "POST", "/api/v1/invitations", {
      email: "o@acme.test",
      role: "owner",
    });
    assert.equal(badRole.status, 400);
    const member = await call(gh, acmeKey, "POST", "/api/v1/invitations", {
      email: "admin@acme.test",
      role: "member",
    });
    assert.equal(member.status, 409);
    assert.equal((await call(gh, operatorKey, "GET", "/api/v1/invitations")).status, 403);

    const events = await call(gh, acmeKey, "GET", "/api/v1/events?type=invitation.revoked");
    assert.equal((events.body.data as unknown[]).length, 2, "replaced and revoked");
  });

  test("role changes and removal: the last owner stays; a removed member's sessions end", async () => {
    const invited = await call(gh, acmeKey, "POST", "/api/v1/invitations", {
      email: "m@acme.test",
      role: "member",
    });
    const member = await acceptLink(invited.body.setupLink as string);
    const users = (await call(gh, acmeKey, "GET", "/api/v1/users")).body.data as {
      id: string;
      email: string;
      role: string;
      lastSignInAt: string | null;
    }[];
    const owner = users.find((u) => u.email === "admin@acme.test");
    const m = users.find((u) => u.email === "m@acme.test");
    assert.ok(owner && m);
    assert.ok(m.lastSignInAt, "the setup link signed them in");

    const demoteOwner = await call(gh, acmeKey, "PATCH", `/api/v1/users/${owner.id}`, { role: "member" });
    assert.equal(demoteOwner.status, 409);
    assert.equal(demoteOwner.body.code, "MEMBER_CHANGE_REFUSED");
    assert.equal((await call(gh, acmeKey, "DELETE", `/api/v1/users/${owner.id}`)).status, 409);

    const promoted = await call(gh, acmeKey, "PATCH", `/api/v1/users/${m.id}`, { role: "admin" });
    assert.equal(promoted.status, 200);
    assert.equal(JSON.parse((await member.get(`${gh.url}/api/v1/me`)).body).role, "admin");
    assert.equal((await call(gh, acmeKey, "PATCH", `/api/v1/users/${m.id}`, { role: "owner" })).status, 400);

    // An admin's own session may not remove itself; another admin (the key) may.
    const self = await member.request(`${gh.url}/api/v1/users/${m.id}`, {
      method: "DELETE",
      headers: {
        "x-csrf-token": JSON.parse((await member.get(`${gh.url}/api/v1/me?include=csrfToken`)).body)
          .csrfToken,
      },
    });
    assert.equal(self.status, 409);

    assert.equal((await call(gh, acmeKey, "DELETE", `/api/v1/users/${m.id}`)).status, 204);
    assert.equal((await member.get(`${gh.url}/api/v1/me`)).status, 401, "their session ended");
    const signIn = await passwordSignIn(new Browser(), gh.url, "m@acme.test", PASSWORD);
    assert.equal(signIn.status, 401, "the account is gone");
    assert.equal((await call(gh, acmeKey, "DELETE", `/api/v1/users/${m.id}`)).status, 404);
  });
});
