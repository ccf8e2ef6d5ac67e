/**
 * Test sign-in (issue 8, item 4): an admin goes through the provider and back and sees each
 * check, the claims and what a sign-in would produce, while Gatehouse writes no user, identity,
 * membership or session. Against the development IdP and the hostile provider.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import { disableConnection } from "../../src/connections/delete.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { type HostileProvider, type Scenario, startHostileProvider } from "../hostile/provider.js";
import {
  type Answer,
  Browser,
  csrfToken,
  errorCode,
  nameHeading,
  passwordSignIn,
} from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import {
  ADMIN,
  acmeOktaInput,
  connectAcme,
  seedAcme,
  signInAtIdp,
  ssoSignIn,
  startIdp,
} from "../support/sso.js";

let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
let apiKey: string;
let admin: Browser;

before(async () => {
  gh = await startGatehouse();
  idp = await startIdp(gh, [{ email: "mallory@evil.test", password: "mallory-password", name: "Mallory" }]);
  ({ organizationId } = await seedAcme(gh));
  apiKey = (await createApiKey(gh.ctx, "acme", "ci")).key;
  admin = new Browser();
  assert.equal((await passwordSignIn(admin, gh.url, ADMIN.email, ADMIN.password)).status, 303);
});
after(async () => {
  await idp.close();
  await gh.close();
});

async function api(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${gh.url}/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function rowCounts() {
  const db = gh.ctx.store.db;
  const count = async (
    table: "users" | "identities" | "memberships" | "sessions" | "connections" | "connection_tests",
  ) => Number((await db.selectFrom(table).select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  return {
    users: await count("users"),
    identities: await count("identities"),
    memberships: await count("memberships"),
    sessions: await count("sessions"),
    connections: await count("connections"),
  };
}

/** Opens the test's URL, signs in at the development IdP, and follows the callback to the result page. */
async function runTest(browser: Browser, url: string, email: string, password: string): Promise<Answer> {
  const start = await browser.get(url);
  const back = await signInAtIdp(browser, start, idp, email, password, gh.url);
  const callback = await browser.get(back.location as string);
  assert.equal(callback.status, 303, `callback: ${callback.status} ${callback.body.slice(0, 300)}`);
  assert.ok(callback.location?.includes("/admin/enterprise-authentication/oidc/tests/"), callback.location);
  return browser.get(callback.location as string);
}

/**
 * A test sign-in of unsaved values against a hostile provider that breaks one rule: the admin's
 * browser through the provider and back to the result page, handed to `use`.
 */
async function hostileTestPage(
  rule: Scenario,
  use: (page: Answer, op: HostileProvider) => Promise<void>,
): Promise<void> {
  const op = await startHostileProvider({ redirectUri: `${gh.url}/sso/oidc/callback` });
  try {
    op.set(rule);
    const started = await api("/connections/test", {
      type: "oidc",
      name: "Hostile",
      issuer: op.issuer,
      clientId: op.clientId,
      clientSecret: op.clientSecret,
      domains: ["acme.test"],
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const start = await admin.get(String(started.json.url));
    assert.ok(start.location?.startsWith(`${op.issuer}/authorize?`), start.location);
    const back = await admin.get(start.location as string);
    const callback = await admin.get(back.location as string);
    await use(await admin.get(callback.location as string), op);
  } finally {
    await op.close();
  }
}

function check(page: string, name: string): { state: string; expected: string; received: string } {
  const row = new RegExp(
    `<tr data-testid="test-check" data-check="${name}" data-state="([a-z-]+)">([\\s\\S]*?)</tr>`,
  ).exec(page);
  assert.ok(row, `no row for check ${name}`);
  const cell = (field: string) =>
    new RegExp(`data-field="${field}">(?:<code>)?([\\s\\S]*?)(?:</code>)?</td>`).exec(row[2] ?? "")?.[1] ??
    "";
  return { state: row[1] ?? "", expected: cell("expected"), received: cell("received") };
}

function field(page: string, name: string): string | undefined {
  return new RegExp(`data-field="${name}"[^>]*>([^<]*)<`).exec(page)?.[1];
}

describe("test sign-in of unsaved values", () => {
  test("through the IdP and back: every check passed, the claims, the sign-in it would produce, and nothing written", async () => {
    const before = await rowCounts();
    const started = await api("/connections/test", { type: "oidc", ...acmeOktaInput(idp) });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    assert.match(
      String(started.json.url),
      /\/admin\/enterprise-authentication\/oidc\/tests\/[0-9a-f-]{36}\/start$/,
    );
    const stored = await gh.ctx.store.db.selectFrom("connection_tests").selectAll().executeTakeFirstOrThrow();
    assert.ok(stored.client_secret_sealed?.startsWith("v1."), "the secret is sealed");
    assert.ok(!JSON.stringify(stored).includes("gatehouse-okta-secret"), "never stored in clear");

    const page = await runTest(admin, String(started.json.url), "alice@acme.test", "alice-password");
    assert.equal(page.status, 200);
    assert.match(page.body, /data-outcome="success"/);
    for (const name of [
      "state",
      "token_request",
      "iss",
      "aud",
      "nonce",
      "exp",
      "iat",
      "signature",
      "sub",
      "email",
      "email_domain",
      "account",
    ]) {
      assert.equal(check(page.body, name).state, "passed", `${name} passed`);
    }
    assert.deepEqual(check(page.body, "iss"), {
      state: "passed",
      expected: idp.issuer,
      received: idp.issuer,
    });
    assert.equal(check(page.body, "email_domain").received, "acme.test");
    assert.equal(field(page.body, "email"), "alice@acme.test");
    assert.equal(field(page.body, "organization"), "Acme");
    assert.equal(field(page.body, "role"), "member");
    assert.match(page.body, /data-account="new"/);
    assert.match(page.body, /data-testid="id-token-claims"/);
    assert.match(page.body, /data-claim="sub"/);
    assert.match(page.body, /data-claim="email"/);
    assert.equal(nameHeading(page.body, "id-token-claims"), "Claim");
    // Claim values, never the tokens: no JWT anywhere on the page.
    assert.doesNotMatch(page.body, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);

    assert.deepEqual(await rowCounts(), before, "no user, identity, membership, session or connection");
    const me = await admin.get(`${gh.url}/api/v1/me`);
    assert.equal(
      (JSON.parse(me.body) as { user: { email: string } }).user.email,
      ADMIN.email,
      "still the admin",
    );
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "connection.tested",
      limit: 1,
    });
    assert.equal(event?.outcome, "success");
    assert.equal(event?.email, "alice@acme.test");
  });

  test("a wrong client secret is caught by the credentials check: a field error, nothing kept", async () => {
    const before = await gh.ctx.store.db.selectFrom("connection_tests").select("id").execute();
    const refused = await api("/connections/test", {
      type: "oidc",
      ...acmeOktaInput(idp),
      clientSecret: "not-the-secret",
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.code, "VALIDATION_FAILED");
    assert.match(String((refused.json.fields as Record<string, string>).clientSecret), /refused/);
    const afterRows = await gh.ctx.store.db.selectFrom("connection_tests").select("id").execute();
    assert.equal(afterRows.length, before.length, "no test kept");
    assert.equal((await rowCounts()).connections, 0);
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "connection.tested",
      limit: 1,
    });
    assert.equal(event?.outcome, "failure");
    assert.equal(event?.reasonCode, "VALIDATION_FAILED");
  });

  test("the Setup form's Test sign-in refuses a wrong secret beside the field, like Create", async () => {
    const setup = await admin.get(`${gh.url}/admin/enterprise-authentication/oidc`);
    const input = acmeOktaInput(idp);
    const answer = await admin.post(`${gh.url}/admin/enterprise-authentication/oidc/test`, {
      _csrf: csrfToken(setup.body),
      name: input.name,
      issuer: input.issuer,
      clientId: input.clientId,
      clientSecret: "not-the-secret",
      domains: "acme.test",
    });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /id="clientSecret-error"/);
    assert.equal((await rowCounts()).connections, 0);
  });

  test("the Setup form's Test sign-in, then Create the connection from the result", async () => {
    const setup = await admin.get(`${gh.url}/admin/enterprise-authentication/oidc`);
    const input = acmeOktaInput(idp);
    const answer = await admin.post(`${gh.url}/admin/enterprise-authentication/oidc/test`, {
      _csrf: csrfToken(setup.body),
      name: "Tested Okta",
      issuer: input.issuer,
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      domains: "acme.test",
    });
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    const page = await runTest(admin, answer.location as string, "alice@acme.test", "alice-password");
    assert.match(page.body, /data-outcome="success"/);
    const created = await admin.post(`${page.url}/create`, { _csrf: csrfToken(page.body) });
    assert.equal(created.status, 303);
    const rows = await gh.ctx.store.db.selectFrom("connections").select(["name", "status"]).execute();
    assert.deepEqual(rows, [{ name: "Tested Okta", status: "enabled" }]);
    await gh.ctx.store.db.deleteFrom("connection_domains").execute();
    await gh.ctx.store.db.deleteFrom("connections").execute();
  });

  test("an email outside the connection's domains: the check fails with what was expected and received", async () => {
    const started = await api("/connections/test", { type: "oidc", ...acmeOktaInput(idp) });
    // The development IdP keeps Alice signed in in the first browser: another one signs in as Mallory.
    const browser = new Browser();
    assert.equal((await passwordSignIn(browser, gh.url, ADMIN.email, ADMIN.password)).status, 303);
    const before = await rowCounts();
    const page = await runTest(browser, String(started.json.url), "mallory@evil.test", "mallory-password");
    assert.match(page.body, /data-outcome="failure"/);
    assert.equal(errorCode(page.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    assert.deepEqual(check(page.body, "email_domain"), {
      state: "failed",
      expected: "one of acme.test",
      received: "evil.test",
    });
    assert.equal(check(page.body, "account").state, "skipped");
    // The ID token was verified before the domain rule refused it: its claims are shown.
    assert.match(page.body, /data-testid="id-token-claims"/);
    assert.match(page.body, /data-claim="email"><td><code>email<\/code><\/td><td><code>mallory@evil\.test</);
    assert.deepEqual(await rowCounts(), before);
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "connection.tested",
      limit: 1,
    });
    assert.equal(event?.outcome, "failure");
    assert.equal(event?.reasonCode, "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    assert.deepEqual(
      [event?.detail?.check, event?.detail?.expected, event?.detail?.received],
      ["email_domain", "one of acme.test", "evil.test"],
    );
  });

  test("a token endpoint that refuses: the authorization response passed, the token request failed with what it said", async () => {
    await hostileTestPage({ tokenAnswer: "invalid-grant" }, async (page) => {
      assert.equal(errorCode(page.body), "SSO_TOKEN_REQUEST_FAILED");
      assert.equal(check(page.body, "provider_response").state, "passed");
      assert.equal(check(page.body, "response_iss").state, "passed");
      const token = check(page.body, "token_request");
      assert.equal(token.state, "failed");
      assert.equal(token.expected, "the client authenticated, an ID token issued");
      assert.match(token.received, /^HTTP 400 error=invalid_grant/);
      assert.equal(check(page.body, "signature").state, "skipped");
    });
  });

  test("a hostile provider's wrong iss: the check fails with the expected and received issuer", async () => {
    const before = await rowCounts();
    await hostileTestPage({ claims: { iss: "https://evil.test" } }, async (page, op) => {
      assert.equal(errorCode(page.body), "SSO_ID_TOKEN_INVALID");
      const iss = check(page.body, "iss");
      assert.equal(iss.state, "failed");
      assert.equal(iss.expected, JSON.stringify(op.issuer).replaceAll('"', "&quot;"));
      assert.equal(iss.received, "&quot;https://evil.test&quot;");
      assert.equal(check(page.body, "signature").state, "skipped");
      // Claims of a token Gatehouse did not accept are not shown as the provider's.
      assert.doesNotMatch(page.body, /data-testid="id-token-claims"/);
    });
    assert.deepEqual(await rowCounts(), before);
  });

  test("an address the provider says is unverified: refused, with the verified token's claims shown", async () => {
    await hostileTestPage({ claims: { email_verified: false } }, async (page) => {
      assert.equal(errorCode(page.body), "SSO_EMAIL_UNVERIFIED");
      assert.equal(check(page.body, "signature").state, "passed");
      assert.equal(check(page.body, "email_verified").state, "failed");
      assert.match(page.body, /data-testid="id-token-claims"/);
      assert.match(
        page.body,
        /data-claim="email_verified"><td><code>email_verified<\/code><\/td><td><code>false</,
      );
    });
  });

  test("another admin session cannot open the test or its result", async () => {
    const started = await api("/connections/test", { type: "oidc", ...acmeOktaInput(idp) });
    const url = String(started.json.url);
    // The first admin session to open an API key's test owns it.
    assert.equal((await admin.get(url)).status, 302);
    const other = new Browser();
    assert.equal((await passwordSignIn(other, gh.url, ADMIN.email, ADMIN.password)).status, 303);
    assert.equal((await other.get(url)).status, 404);
    assert.equal((await other.get(url.replace(/\/start$/, ""))).status, 404);
    // Nor an admin of another organization.
    await createOrganizationWithAdmin(gh.ctx, {
      slug: "globex",
      name: "Globex",
      adminEmail: "admin@globex.test",
      adminPassword: ADMIN.password,
    });
    const globex = new Browser();
    assert.equal((await passwordSignIn(globex, gh.url, "admin@globex.test", ADMIN.password)).status, 303);
    assert.equal((await globex.get(url)).status, 404);
  });
});

describe("test sign-in of a saved connection", () => {
  test("a disabled connection: the returning user, their role, and the connection stays as it was", async () => {
    const connection = await connectAcme(gh, idp, organizationId);
    try {
      const alice = new Browser();
      assert.equal((await ssoSignIn(alice, gh, idp, "alice@acme.test", "alice-password")).status, 303);
      await disableConnection(gh.ctx, { organizationId, actorUserId: null }, connection.id, {
        endSessions: false,
      });
      // Creating the connection ended the admin's password session; disabled, the password works again.
      admin = new Browser();
      assert.equal((await passwordSignIn(admin, gh.url, ADMIN.email, ADMIN.password)).status, 303);
      const before = await rowCounts();
      const started = await api(`/connections/${connection.id}/test`, {});
      assert.equal(started.status, 201, JSON.stringify(started.json));
      // The URL needs an admin session: a browser without one is sent to sign in first.
      const anonymous = await new Browser().get(String(started.json.url));
      assert.equal(anonymous.status, 303);
      assert.match(anonymous.location ?? "", /\/login\?return_to=/);
      const result = await runTest(admin, String(started.json.url), "alice@acme.test", "alice-password");
      assert.match(result.body, /data-outcome="success"/);
      assert.match(result.body, /data-account="returning"/);
      assert.equal(field(result.body, "role"), "member");
      assert.match(result.body, /This connection is disabled/);
      assert.deepEqual(await rowCounts(), before);
      const [event] = await listAuditEvents(gh.ctx.store.db, {
        organizationId,
        type: "connection.tested",
        limit: 1,
      });
      assert.equal(event?.connectionId, connection.id);
    } finally {
      await gh.ctx.store.db.deleteFrom("connection_domains").execute();
      await gh.ctx.store.db.deleteFrom("identities").execute();
      await gh.ctx.store.db.deleteFrom("connection_tests").execute();
      await gh.ctx.store.db.deleteFrom("connections").execute();
    }
  });

  test("another organization's connection id answers 404", async () => {
    const answer = await api("/connections/00000000-0000-4000-8000-000000000000/test", {});
    assert.equal(answer.status, 404);
  });
});

describe("expiry", () => {
  // Last: the clock moves forward for good.
  test("after 10 minutes the test cannot be opened, and a late callback is refused", async () => {
    const late = await api("/connections/test", { type: "oidc", ...acmeOktaInput(idp) });
    const start = await admin.get(String(late.json.url));
    const back = await signInAtIdp(admin, start, idp, "alice@acme.test", "alice-password", gh.url);
    const unopened = await api("/connections/test", { type: "oidc", ...acmeOktaInput(idp) });
    gh.advance(10 * 60 * 1000 + 1000);
    const before = await rowCounts();
    const callback = await admin.get(back.location as string);
    assert.equal(errorCode(callback.body), "SSO_STATE_EXPIRED");
    const opened = await admin.get(String(unopened.json.url));
    assert.equal(opened.status, 303);
    const page = await admin.get(opened.location as string);
    assert.match(page.body, /data-outcome="expired"/);
    assert.deepEqual(await rowCounts(), before);
  });
});
