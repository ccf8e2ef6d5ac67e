import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Fastify from "fastify";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { createApiKey } from "../src/api/keys.js";
import { registerApiRoutes } from "../src/api/routes.js";
import { createConnection } from "../src/connections/create.js";
import type { ConnectionView, OidcConnectionView } from "../src/connections/view.js";
import { hashPassword } from "../src/crypto/password.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";
import { insertAuditEvent } from "../src/store/audit.js";
import { findOrganizationBySlug, insertMembership } from "../src/store/organizations.js";
import { insertUser, setPassword } from "../src/store/users.js";
import { Browser, passwordSignIn } from "./support/browserless.js";
import { verifyDomainsAsOperator } from "./support/domains.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";

interface ErrorBody {
  code: string;
  message: string;
  fields?: Record<string, string>;
  retryable?: boolean;
}
interface AuditEvent {
  id: string;
  type: string;
  outcome: string | null;
  connectionId: string | null;
  createdAt: string;
}
interface UserView {
  id: string;
  email: string;
  name: string | null;
  role: string;
  createdAt: string;
  signInMethods: string[];
  ssoRequired: { connection: { id: string; name: string } | null } | null;
}
interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json<T>(): T;
}
type Caller = { key: string } | { browser: Browser; csrf?: string } | undefined;

const PASSWORD = "correct horse battery";
const IDP_SECRET = "gatehouse-okta-secret";
const API_SECRET = "api-created-client-secret-value";

let gh: TestGatehouse;
let idp: DevIdp;
let keyA: string;
let keyB: string;
let connectionB: ConnectionView;
const answers: Answer[] = [];

/** One API call as a key holder, a browser session or nobody; every answer is kept for the leak check. */
async function api(
  caller: Caller,
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (caller && "key" in caller) headers.authorization = `Bearer ${caller.key}`;
  if (caller && "browser" in caller) {
    const cookies = caller.browser.cookies("localhost");
    headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (caller.csrf) headers["x-csrf-token"] = caller.csrf;
  }
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const response = await fetch(`${gh.url}${path}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  if (caller && "browser" in caller) {
    for (const line of response.headers.getSetCookie()) {
      const [, name, value] = /^([^=;]+)=([^;]*)/.exec(line) ?? [];
      if (name && value) caller.browser.cookies("localhost").set(name, value);
    }
  }
  const text = await response.text();
  const answer: Answer = {
    status: response.status,
    headers: response.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
  answers.push(answer);
  assert.equal(response.headers.get("cache-control"), "no-store", `${method} ${path} is cacheable`);
  return answer;
}

function assertError(answer: Answer, status: number, code: string): ErrorBody {
  assert.equal(answer.status, status, answer.text);
  const body = answer.json<ErrorBody>();
  assert.equal(body.code, code, answer.text);
  assert.equal(typeof body.message, "string");
  return body;
}

async function signIn(email: string): Promise<{ browser: Browser; csrf: string }> {
  const browser = new Browser();
  const answer = await passwordSignIn(browser, gh.url, email, PASSWORD);
  assert.equal(answer.status, 303, `sign-in of ${email} failed`);
  const me = await api({ browser }, "GET", "/api/v1/me?include=csrfToken");
  assert.equal(me.status, 200, me.text);
  return { browser, csrf: me.json<{ csrfToken: string }>().csrfToken };
}

function connectionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "oidc",
    name: "Acme Okta",
    issuer: idp.issuer,
    clientId: "gatehouse-okta",
    clientSecret: IDP_SECRET,
    domains: ["sso.acme.test"],
    ...overrides,
  };
}

let admin: { browser: Browser; csrf: string };
let member: { browser: Browser; csrf: string };

before(async () => {
  gh = await startGatehouse();
  idp = await startDevIdp({ port: 0, ...demoIdpSetup(`${gh.url}/`) });
  await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: "admin@acme.test",
    adminPassword: PASSWORD,
  });
  const globex = await createOrganizationWithAdmin(gh.ctx, {
    slug: "globex",
    name: "Globex",
    adminEmail: "admin@globex.test",
    adminPassword: PASSWORD,
  });
  const acme = await findOrganizationBySlug(gh.ctx.store.db, "acme");
  assert.ok(acme);
  const now = gh.ctx.now();
  const memberUser = await insertUser(
    gh.ctx.store.db,
    { email: "member@acme.test", name: "Mia Member" },
    now,
  );
  await setPassword(gh.ctx.store.db, memberUser.id, await hashPassword(PASSWORD), now);
  await insertMembership(
    gh.ctx.store.db,
    { organizationId: acme.id, userId: memberUser.id, role: "member" },
    now,
  );

  keyA = (await createApiKey(gh.ctx, "acme", "ci")).key;
  keyB = (await createApiKey(gh.ctx, "globex", "ci")).key;
  await verifyDomainsAsOperator(gh, globex.organization.id, ["globex.test"]);
  const created = await createConnection(gh.ctx, {
    organizationId: globex.organization.id,
    input: {
      name: "Globex Okta",
      issuer: idp.issuer,
      clientId: "gatehouse-okta",
      clientSecret: IDP_SECRET,
      domains: ["globex.test"],
    },
    actorUserId: null,
  });
  connectionB = created.connection;
  admin = await signIn("admin@acme.test");
  member = await signIn("member@acme.test");
});

after(async () => {
  // No answer of the whole file, error or not, ever carried a client secret; nor did a log line.
  for (const answer of answers) {
    assert.ok(!answer.text.includes(IDP_SECRET), `an answer leaked the secret: ${answer.text}`);
    assert.ok(!answer.text.includes(API_SECRET), `an answer leaked the secret: ${answer.text}`);
  }
  assert.ok(!gh.logs.some((line) => line.includes(API_SECRET) || line.includes(IDP_SECRET)));
  await idp.close();
  await gh.close();
});

const adminEndpoints: [string, string, unknown?][] = [
  ["GET", "/api/v1/connections"],
  ["POST", "/api/v1/connections", {}],
  ["GET", "/api/v1/connections/00000000-0000-4000-8000-000000000000"],
  ["DELETE", "/api/v1/connections/00000000-0000-4000-8000-000000000000"],
  ["GET", "/api/v1/users"],
  ["GET", "/api/v1/events"],
];

describe("authentication", () => {
  test("no credentials answer 401 with a Bearer challenge on every endpoint", async () => {
    for (const [method, path, body] of [...adminEndpoints, ["GET", "/api/v1/me"] as const]) {
      const answer = await api(undefined, method, path, body);
      assertError(answer, 401, "AUTH_UNAUTHENTICATED");
      assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer\b/);
    }
  });

  test("a malformed, unknown, non-bearer or revoked key answers 401 and never falls back to the cookie", async () => {
    const revoked = await createApiKey(gh.ctx, "acme", "revoked");
    await gh.ctx.store.db
      .updateTable("api_keys")
      .set({ revoked_at: gh.ctx.now() })
      .where("id", "=", revoked.id)
      .execute();
    const cookie = [...admin.browser.cookies("localhost")].map(([k, v]) => `${k}=${v}`).join("; ");
    const authorizations = [
      "Bearer not-a-key",
      `Bearer ghk_${"A".repeat(43)}`,
      `Bearer ${revoked.key}`,
      `Basic ${Buffer.from("admin@acme.test:x").toString("base64")}`,
      "Bearer",
      `Bearer ${keyA} extra`,
    ];
    for (const authorization of authorizations) {
      for (const path of ["/api/v1/users", "/api/v1/me"]) {
        const answer = await api(undefined, "GET", path, undefined, { authorization, cookie });
        assertError(answer, 401, "AUTH_UNAUTHENTICATED");
        assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer .*error="invalid_token"/);
      }
    }
  });

  test("a member's session may read /me but is refused the admin endpoints with 403", async () => {
    const me = await api(member, "GET", "/api/v1/me");
    assert.equal(me.status, 200);
    assert.equal(me.json<{ role: string }>().role, "member");
    for (const [method, path, body] of adminEndpoints) {
      assertError(await api(member, method, path, body), 403, "AUTH_FORBIDDEN");
    }
  });

  test("a session's POST and DELETE without the x-csrf-token header answer 403 CSRF_INVALID", async () => {
    const noCsrf = { browser: admin.browser };
    const post = await api(noCsrf, "POST", "/api/v1/connections", connectionBody({ name: "No CSRF" }));
    assertError(post, 403, "CSRF_INVALID");
    const wrong = { browser: admin.browser, csrf: "forged-token" };
    assertError(await api(wrong, "POST", "/api/v1/connections", connectionBody()), 403, "CSRF_INVALID");
    const none = await api({ key: keyA }, "GET", "/api/v1/connections");
    assert.deepEqual(none.json<{ data: unknown[] }>().data, []);

    // An API key needs no token: nothing sends it on its own.
    const created = await api({ key: keyA }, "POST", "/api/v1/connections", connectionBody({ name: "CSRF" }));
    assert.equal(created.status, 201, created.text);
    const path = `/api/v1/connections/${created.json<ConnectionView>().id}`;
    assertError(await api(noCsrf, "DELETE", path), 403, "CSRF_INVALID");
    assertError(await api(wrong, "DELETE", path), 403, "CSRF_INVALID");
    assert.equal((await api({ key: keyA }, "GET", path)).status, 200);
    assert.equal((await api({ key: keyA }, "DELETE", path)).status, 204);
  });

  test("an API key's last use is recorded at most once a minute", async () => {
    const created = await createApiKey(gh.ctx, "acme", "touch");
    const lastUsed = async () =>
      (
        await gh.ctx.store.db
          .selectFrom("api_keys")
          .select("last_used_at")
          .where("id", "=", created.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    assert.equal(await lastUsed(), null);
    await api({ key: created.key }, "GET", "/api/v1/me");
    const first = await lastUsed();
    assert.equal(typeof first, "number");
    gh.advance(30_000);
    await api({ key: created.key }, "GET", "/api/v1/me");
    assert.equal(await lastUsed(), first);
    gh.advance(31_000);
    await api({ key: created.key }, "GET", "/api/v1/me");
    assert.ok(Number(await lastUsed()) >= Number(first) + 60_000);
  });
});

describe("GET /api/v1/me", () => {
  test("describes an admin's password session", async () => {
    const answer = await api(admin, "GET", "/api/v1/me");
    assert.equal(answer.status, 200);
    const me = answer.json<Record<string, unknown>>();
    assert.equal(me.credential, "session");
    assert.deepEqual(Object.keys(me.user as object).sort(), [
      "email",
      "familyName",
      "givenName",
      "id",
      "name",
    ]);
    assert.equal((me.user as { email: string }).email, "admin@acme.test");
    assert.deepEqual(
      { ...(me.organization as object), id: undefined },
      { id: undefined, slug: "acme", name: "Acme" },
    );
    assert.equal(me.role, "owner");
    assert.equal(me.signInMethod, "password");
    assert.equal(me.connection, null);
    assert.ok(Date.parse(String(me.expiresAt)) > gh.ctx.now());
  });

  test("describes an API key and its organization", async () => {
    const answer = await api({ key: keyA }, "GET", "/api/v1/me");
    assert.equal(answer.status, 200);
    const me = answer.json<{
      credential: string;
      apiKey: { name: string };
      organization: { slug: string };
    }>();
    assert.equal(me.credential, "api_key");
    assert.equal(me.apiKey.name, "ci");
    assert.equal(me.organization.slug, "acme");
  });
});

describe("connections", () => {
  test("a client secret the provider refuses answers 400 with the provider's words on clientSecret, nothing saved", async () => {
    const refused = await api(
      { key: keyA },
      "POST",
      "/api/v1/connections",
      connectionBody({ name: "Wrong secret", clientSecret: API_SECRET, domains: ["wrong.acme.test"] }),
    );
    assert.equal(refused.status, 400, refused.text);
    const body = refused.json<ErrorBody>();
    assert.equal(body.code, "VALIDATION_FAILED");
    assert.match(body.fields?.clientSecret ?? "", /invalid_client/);
    const list = await api({ key: keyA }, "GET", "/api/v1/connections");
    assert.ok(!list.text.includes("Wrong secret"));
  });

  for (const who of ["an API key", "an admin session"] as const) {
    test(`${who} creates, lists, reads and deletes a connection`, async () => {
      const caller: Caller = who === "an API key" ? { key: keyA } : admin;
      const name = `Acme Okta (${who})`;
      const domain = who === "an API key" ? "key.acme.test" : "session.acme.test";
      const created = await api(
        caller,
        "POST",
        "/api/v1/connections",
        connectionBody({ name, domains: [domain] }),
      );
      assert.equal(created.status, 201, created.text);
      const view = created.json<OidcConnectionView>();
      assert.equal(view.name, name);
      assert.equal(view.status, "enabled");
      assert.equal(view.issuer, idp.issuer);
      assert.equal(view.clientId, "gatehouse-okta");
      assert.equal(view.clientSecret, "********");
      assert.deepEqual(view.domains, [domain]);
      assert.equal(view.callbackUrl, `${gh.url}/sso/oidc/callback`);
      assert.equal(created.headers.get("location"), `${gh.url}/api/v1/connections/${view.id}`);

      const list = await api(caller, "GET", "/api/v1/connections");
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.json<{ data: ConnectionView[] }>().data.map((c) => c.id),
        [view.id],
      );
      const one = await api(caller, "GET", `/api/v1/connections/${view.id}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.json<ConnectionView>(), view);
      const upper = await api(caller, "GET", `/api/v1/connections/${view.id.toUpperCase()}`);
      assert.equal(upper.status, 200);

      const events = await api(caller, "GET", `/api/v1/events?connection=${view.id}`);
      assert.equal(events.status, 200);
      const createdEvents = events.json<{ data: AuditEvent[] }>().data;
      assert.deepEqual(
        createdEvents.map((e) => e.type),
        ["connection.created"],
      );

      const deleted = await api(caller, "DELETE", `/api/v1/connections/${view.id}`);
      assert.equal(deleted.status, 204);
      assert.equal(deleted.text, "");
      assertError(await api(caller, "GET", `/api/v1/connections/${view.id}`), 404, "CONNECTION_NOT_FOUND");
      assertError(await api(caller, "DELETE", `/api/v1/connections/${view.id}`), 404, "CONNECTION_NOT_FOUND");
      const after = await api(caller, "GET", `/api/v1/events?connection=${view.id}`);
      assert.deepEqual(
        after.json<{ data: AuditEvent[] }>().data.map((e) => e.type),
        ["connection.deleted", "connection.created"],
      );
    });
  }

  test("an id that is not a UUID answers 404", async () => {
    for (const id of ["nope", "1", "00000000-0000-4000-8000-00000000000g", "a%20b"]) {
      assertError(await api({ key: keyA }, "GET", `/api/v1/connections/${id}`), 404, "CONNECTION_NOT_FOUND");
      assertError(
        await api({ key: keyA }, "DELETE", `/api/v1/connections/${id}`),
        404,
        "CONNECTION_NOT_FOUND",
      );
    }
  });

  test("the body's shape is checked field by field", async () => {
    const cases: [unknown, string[]][] = [
      // The type says which protocol's fields to check; without one there is nothing more to say.
      [{}, ["type"]],
      [{ type: "oidc" }, ["name", "issuer", "clientId", "domains"]],
      [{ type: "ws-fed" }, ["type"]],
      [connectionBody({ clientSecret: undefined }), ["clientSecret"]],
      // A SAML connection has no issuer, client ID or secret.
      [connectionBody({ type: "saml" }), ["issuer", "clientId", "clientSecret"]],
      [connectionBody({ extra: true, admin: "yes" }), ["extra", "admin"]],
      [connectionBody({ name: 42, clientSecret: null }), ["name", "clientSecret"]],
      [connectionBody({ domains: "sso.acme.test" }), ["domains"]],
      [connectionBody({ domains: [1] }), ["domains"]],
      [connectionBody({ domains: [] }), ["domains"]],
      [connectionBody({ domains: ["not a domain"] }), ["domains"]],
      [connectionBody({ name: "  ", clientId: "" }), ["name", "clientId"]],
      [connectionBody({ issuer: "not a url" }), ["issuer"]],
      [[connectionBody()], ["body"]],
      ["null", ["body"]],
    ];
    for (const [body, fields] of cases) {
      const answer = await api({ key: keyA }, "POST", "/api/v1/connections", body);
      const error = assertError(answer, 400, "VALIDATION_FAILED");
      assert.deepEqual(Object.keys(error.fields ?? {}).sort(), [...fields].sort(), answer.text);
    }
    const broken = await api({ key: keyA }, "POST", "/api/v1/connections", "{not json");
    assert.equal(broken.status, 400);
    const list = await api({ key: keyA }, "GET", "/api/v1/connections");
    assert.deepEqual(list.json<{ data: unknown[] }>().data, []);
  });

  test("a taken name or domain answers 409 CONFLICT naming the field", async () => {
    const name = await api(
      { key: keyA },
      "POST",
      "/api/v1/connections",
      connectionBody({ name: "globex okta" }),
    );
    assert.deepEqual(Object.keys(assertError(name, 409, "CONFLICT").fields ?? {}), ["name"]);
    const domain = await api(
      { key: keyA },
      "POST",
      "/api/v1/connections",
      connectionBody({ domains: ["globex.test"] }),
    );
    assert.deepEqual(Object.keys(assertError(domain, 409, "CONFLICT").fields ?? {}), ["domains"]);
  });

  test("an issuer that does not check out answers 400 with the SSO code, the issuer field and retryable", async () => {
    const mismatch = await api(
      { key: keyA },
      "POST",
      "/api/v1/connections",
      connectionBody({ issuer: `${idp.issuer}/` }),
    );
    const mismatched = assertError(mismatch, 400, "SSO_ISSUER_MISMATCH");
    assert.ok(mismatched.fields?.issuer);
    assert.equal(mismatched.retryable, false, "the same issuer will never match");
    const nothing = await api(
      { key: keyA },
      "POST",
      "/api/v1/connections",
      connectionBody({ issuer: `${gh.url}/nothing-here` }),
    );
    const missing = assertError(nothing, 400, "SSO_DISCOVERY_FAILED");
    assert.ok(missing.fields?.issuer);
    assert.equal(missing.retryable, false, "a discovery document answering 404 stays missing");
    const unreachable = await api(
      { key: keyA },
      "POST",
      "/api/v1/connections",
      connectionBody({ issuer: "http://127.0.0.1:1" }),
    );
    assert.equal(
      assertError(unreachable, 400, "SSO_DISCOVERY_FAILED").retryable,
      true,
      "a provider down may come back",
    );
    const invalid = await api({ key: keyA }, "POST", "/api/v1/connections", connectionBody({ domains: [] }));
    assert.equal(
      "retryable" in assertError(invalid, 400, "VALIDATION_FAILED"),
      false,
      "no remedy, no member",
    );
  });
});

describe("organization isolation", () => {
  test("organization A's key cannot see, read or delete organization B's connection", async () => {
    const path = `/api/v1/connections/${connectionB.id}`;
    assertError(await api({ key: keyA }, "GET", path), 404, "CONNECTION_NOT_FOUND");
    assertError(await api({ key: keyA }, "DELETE", path), 404, "CONNECTION_NOT_FOUND");
    assertError(await api(admin, "GET", path), 404, "CONNECTION_NOT_FOUND");
    assertError(await api(admin, "DELETE", path), 404, "CONNECTION_NOT_FOUND");
    const list = await api({ key: keyA }, "GET", "/api/v1/connections");
    assert.ok(!list.text.includes(connectionB.id));
    // Still there for its own organization.
    const own = await api({ key: keyB }, "GET", path);
    assert.equal(own.status, 200);
    assert.equal(own.json<ConnectionView>().name, "Globex Okta");
  });

  test("filtering A's events by B's connection finds nothing of B's", async () => {
    const filtered = await api({ key: keyA }, "GET", `/api/v1/events?connection=${connectionB.id}`);
    assert.equal(filtered.status, 200);
    assert.deepEqual(filtered.json<{ data: unknown[] }>().data, []);
    const all = await api({ key: keyA }, "GET", "/api/v1/events?limit=200");
    assert.ok(!all.text.includes(connectionB.id));
    assert.ok(!all.text.includes("globex"));
    const own = await api({ key: keyB }, "GET", `/api/v1/events?connection=${connectionB.id}`);
    assert.deepEqual(
      own.json<{ data: AuditEvent[] }>().data.map((e) => e.type),
      ["connection.created"],
    );
  });

  test("A's users list holds only A's users", async () => {
    const users = await api({ key: keyA }, "GET", "/api/v1/users");
    assert.ok(!users.text.includes("globex"));
  });
});

describe("GET /api/v1/users", () => {
  for (const who of ["an API key", "an admin session"] as const) {
    test(`lists the organization's users with their sign-in methods, for ${who}`, async () => {
      const answer = await api(who === "an API key" ? { key: keyA } : admin, "GET", "/api/v1/users");
      assert.equal(answer.status, 200);
      const users = answer.json<{ data: UserView[] }>().data;
      assert.deepEqual(
        users.map((u) => [u.email, u.role, u.signInMethods, u.ssoRequired]),
        [
          ["admin@acme.test", "owner", ["password"], null],
          ["member@acme.test", "member", ["password"], null],
        ],
      );
      for (const user of users) {
        assert.equal(new Date(user.createdAt).toISOString(), user.createdAt);
        assert.deepEqual(Object.keys(user).sort(), [
          "createdAt",
          "email",
          "familyName",
          "givenName",
          "id",
          "lastSignInAt",
          "name",
          "role",
          "signInMethods",
          "ssoRequired",
        ]);
      }
    });
  }
});

describe("GET /api/v1/events", () => {
  test("filters by outcome, type, limit and time, newest first", async () => {
    for (const caller of [{ key: keyA }, admin]) {
      const all = (await api(caller, "GET", "/api/v1/events?limit=200")).json<{ data: AuditEvent[] }>().data;
      assert.ok(all.length >= 3);
      const times = all.map((e) => Date.parse(e.createdAt));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
      const created = await api(caller, "GET", "/api/v1/events?type=organization.created&outcome=success");
      assert.deepEqual(
        created.json<{ data: AuditEvent[] }>().data.map((e) => e.type),
        ["organization.created"],
      );
      const failures = await api(caller, "GET", "/api/v1/events?outcome=failure");
      assert.ok(failures.json<{ data: AuditEvent[] }>().data.every((e) => e.outcome === "failure"));
      const two = await api(caller, "GET", "/api/v1/events?limit=2");
      assert.equal(two.json<{ data: AuditEvent[] }>().data.length, 2);
      const oldest = all.at(-1);
      assert.ok(oldest);
      const before = await api(
        caller,
        "GET",
        `/api/v1/events?before=${encodeURIComponent(oldest.createdAt)}`,
      );
      assert.deepEqual(before.json<{ data: AuditEvent[] }>().data, []);
    }
  });

  test("pages of one event each, chained by before and beforeId, add up to the whole log", async () => {
    // Events written in one step share their millisecond; a page may end among them.
    const acme = await findOrganizationBySlug(gh.ctx.store.db, "acme");
    const now = gh.ctx.now();
    for (let i = 0; i < 3; i++) {
      await insertAuditEvent(gh.ctx.store.db, { type: "sign_out", organizationId: acme?.id }, now);
    }
    const all = (await api({ key: keyA }, "GET", "/api/v1/events?limit=200")).json<{ data: AuditEvent[] }>()
      .data;
    const paged: AuditEvent[] = [];
    let query = "limit=1";
    for (let i = 0; i <= all.length; i++) {
      const [event] = (await api({ key: keyA }, "GET", `/api/v1/events?${query}`)).json<{
        data: AuditEvent[];
      }>().data;
      if (!event) break;
      paged.push(event);
      query = `limit=1&before=${encodeURIComponent(event.createdAt)}&beforeId=${event.id}`;
    }
    assert.equal(all.filter((e) => e.createdAt === new Date(now).toISOString()).length, 3);
    assert.deepEqual(
      paged.map((e) => e.id),
      all.map((e) => e.id),
    );
  });

  test("invalid query values answer 400 naming each parameter", async () => {
    const cases: [string, string[]][] = [
      ["limit=0", ["limit"]],
      ["limit=201", ["limit"]],
      ["limit=ten", ["limit"]],
      ["limit=1.5", ["limit"]],
      ["outcome=maybe", ["outcome"]],
      ["type=DROP%20TABLE", ["type"]],
      ["before=yesterday", ["before"]],
      ["before=2025-13-45T00:00:00Z", ["before"]],
      ["connection=123", ["connection"]],
      ["outcome=success&outcome=failure", ["outcome"]],
      ["colour=blue&limit=0", ["colour", "limit"]],
      ["beforeId=00000000-0000-4000-8000-000000000000", ["beforeId"]],
      ["before=2025-01-01T00:00:00Z&beforeId=1", ["beforeId"]],
    ];
    for (const [query, fields] of cases) {
      const answer = await api({ key: keyA }, "GET", `/api/v1/events?${query}`);
      const error = assertError(answer, 400, "VALIDATION_FAILED");
      assert.deepEqual(Object.keys(error.fields ?? {}).sort(), [...fields].sort(), query);
    }
  });
});

describe("OpenAPI document", () => {
  interface Document {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: {
      securitySchemes: Record<string, { type: string; scheme?: string; in?: string }>;
      schemas: Record<string, { properties?: Record<string, unknown> }>;
    };
  }

  async function fetchDocument(): Promise<Document> {
    const answer = await api(undefined, "GET", "/api/v1/openapi.json");
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get("content-type") ?? "", /^application\/json/);
    return answer.json<Document>();
  }

  test("is public and declares both ways in and the shared schemas", async () => {
    const document = await fetchDocument();
    assert.equal(document.openapi, "3.1.0");
    const schemes = Object.values(document.components.securitySchemes);
    assert.ok(schemes.some((s) => s.type === "http" && s.scheme === "bearer"));
    assert.ok(schemes.some((s) => s.type === "apiKey" && s.in === "cookie"));
    for (const name of ["ConnectionView", "User", "AuditEvent", "Error"]) {
      assert.ok(document.components.schemas[name], name);
    }
    assert.deepEqual(Object.keys(document.components.schemas.Error?.properties ?? {}).slice(0, 3), [
      "code",
      "message",
      "fields",
    ]);
  });

  test("lists every /api/v1 route, and every path it lists exists", async () => {
    const document = await fetchDocument();
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item)
          .filter((k) => ["get", "post", "put", "patch", "delete"].includes(k))
          .map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    // Collect the routes as Fastify registers them, independently of the document.
    const probe = Fastify();
    const registered = new Set<string>();
    probe.addHook("onRoute", (route) => {
      for (const method of [route.method].flat()) {
        if (method === "HEAD" || !route.url.startsWith("/api/v1")) continue;
        registered.add(`${method} ${route.url.replace(/:(\w+)/g, "{$1}")}`);
      }
    });
    registerApiRoutes(probe, gh.ctx);
    await probe.ready();
    await probe.close();
    assert.ok(registered.size >= 8, [...registered].join(", "));
    assert.deepEqual([...registered].sort(), [...documented].sort());
    for (const entry of documented) {
      const [method, path] = entry.split(" ") as [string, string];
      assert.ok(
        gh.app.hasRoute({ method, url: path.replace(/\{(\w+)\}/g, ":$1") }),
        `${entry} is documented but the app has no such route`,
      );
    }
  });
});

test("an unknown API path answers JSON 404", async () => {
  assertError(await api({ key: keyA }, "GET", "/api/v1/nothing"), 404, "NOT_FOUND");
  assertError(await api({ key: keyA }, "PUT", "/api/v1/connections"), 404, "NOT_FOUND");
});
