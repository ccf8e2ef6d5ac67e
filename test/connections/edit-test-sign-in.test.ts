/**
 * Test sign-in of an OpenID Connect connection's edit, before Save: the edit form's values go
 * through the provider and back while the saved connection keeps signing people in unchanged;
 * a test that passed saves them in one click; a refusal is the edit form's, and nothing is
 * saved. A private_key_jwt connection's test signs with the connection's own key.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createApiKey } from "../../src/api/keys.js";
import { createConnection } from "../../src/connections/create.js";
import { connectionInputOf } from "../../src/connections/update.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { findConnectionById, type OidcConnection } from "../../src/store/connections.js";
import { type HostileProvider, startHostileProvider } from "../hostile/provider.js";
import { type Answer, Browser, csrfToken } from "../support/browserless.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, signInAtIdp, ssoSignIn, startIdp } from "../support/sso.js";

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
  // SSO is enforced for acme.test: the admin signs in through the connection under edit.
  admin = new Browser();
  assert.equal((await ssoSignIn(admin, gh, idp, ADMIN.email, "admin-password")).status, 303);
});
after(async () => {
  await idp.close();
  await gh.close();
});

async function stored(id = connectionId): Promise<OidcConnection> {
  const connection = await findConnectionById(gh.ctx.store.db, id);
  assert.ok(connection?.protocol === "oidc");
  return connection;
}

/** The edit form's fields as the page fills them, with `changes`. */
async function editForm(id: string, changes: Record<string, string>): Promise<Record<string, string>> {
  const form = await admin.get(`${gh.url}${OIDC}/${id}/edit`);
  assert.equal(form.status, 200);
  assert.match(form.body, new RegExp(`formaction="${OIDC}/${id}/edit/test"[^>]*data-testid="test-sign-in"`));
  const current = connectionInputOf(await stored(id));
  return {
    _csrf: csrfToken(form.body),
    name: current.name,
    issuer: current.issuer,
    clientId: current.clientId,
    clientSecret: "",
    domains: current.domains.join(", "),
    tokenEndpointAuthMethod: current.tokenEndpointAuthMethod ?? "auto",
    extraScopes: (current.extraScopes ?? []).join(" "),
    emailClaim: current.emailClaim ?? "",
    clockSkewSeconds: String(current.clockSkewSeconds ?? 60),
    allowedTenants: "",
    ...changes,
  };
}

/** Through the development IdP and back to the test's result page. */
async function throughIdp(started: Answer, email: string, password: string): Promise<Answer> {
  assert.equal(started.status, 303, started.body.slice(0, 500));
  const start = await admin.get(started.location as string);
  const back = await signInAtIdp(admin, start, idp, email, password, gh.url);
  const callback = await admin.get(back.location as string);
  assert.equal(callback.status, 303, callback.body.slice(0, 300));
  assert.ok(callback.location?.includes(`${OIDC}/tests/`), callback.location);
  return admin.get(callback.location as string);
}

describe("test sign-in of an edit's values", () => {
  test("an email claim the provider does not send fails the test, and the saved connection goes on signing people in", async () => {
    const fields = await editForm(connectionId, { emailClaim: "upn" });
    const started = await admin.post(`${gh.url}${OIDC}/${connectionId}/edit/test`, fields);
    const result = await throughIdp(started, "bob@acme.test", "bob-password");
    assert.equal(result.status, 200);
    assert.match(result.body, /data-outcome="failure"/);
    assert.match(result.body, /SSO_EMAIL_MISSING/);
    assert.doesNotMatch(result.body, /data-testid="save-from-test"/, "a failed test offers no save");
    assert.doesNotMatch(result.body, /data-testid="create-from-test"/);

    assert.equal((await stored()).oidc.emailClaim, "email", "nothing saved");
    const bob = await ssoSignIn(new Browser(), gh, idp, "bob@acme.test", "bob-password");
    assert.equal(bob.status, 303, "the saved connection still signs people in");
    assert.doesNotMatch(String(bob.location), /error/);

    // "Back to the form": the edit form holds the tested values again; the Setup form does not.
    const back = /href="([^"]+)" data-testid="back-to-form"/.exec(result.body)?.[1] ?? "";
    assert.ok(back.startsWith(`${OIDC}/${connectionId}/edit?test=`), back);
    const form = await admin.get(`${gh.url}${back.replaceAll("&amp;", "&")}`);
    assert.match(form.body, /name="emailClaim"[^>]*value="upn"/);
    // Said and shown: the values are the tested ones, not saved, the advanced ones in view.
    assert.match(form.body, /data-testid="tested-values"[\s\S]*not saved yet/);
    assert.match(form.body, /data-testid="advanced-settings" open>/);
    const plain = await admin.get(`${gh.url}${OIDC}/${connectionId}/edit`);
    assert.doesNotMatch(plain.body, /data-testid="tested-values"/);
    const setup = await admin.get(`${gh.url}${OIDC}/new?${back.split("?")[1]}`);
    assert.doesNotMatch(setup.body, /value="upn"/);
  });

  test("a test that passed saves its values in one click, the stored secret kept", async () => {
    const secretBefore = gh.ctx.box.open(
      (await stored()).oidc.clientSecretSealed,
      `connection:${connectionId}`,
    );
    const fields = await editForm(connectionId, { name: "Acme SSO", clockSkewSeconds: "90" });
    const started = await admin.post(`${gh.url}${OIDC}/${connectionId}/edit/test`, fields);
    const result = await throughIdp(started, "bob@acme.test", "bob-password");
    assert.match(result.body, /data-outcome="success"/);
    // Bob signed in through the saved connection before: after Save he is a returning user.
    assert.match(result.body, /data-field="account" data-account="returning"/);
    assert.equal((await stored()).name, "Acme Okta", "a test saves nothing");

    const save = /<form method="post" action="([^"]+\/save)"/.exec(result.body)?.[1];
    assert.ok(save, "Save these changes is offered");
    const saved = await admin.post(`${gh.url}${save}`, { _csrf: csrfToken(result.body) });
    assert.equal(saved.status, 303, saved.body.slice(0, 500));
    const shown = await admin.get(saved.location as string);
    assert.match(shown.body, /data-testid="connection-updated"/);
    const after = await stored();
    assert.equal(after.name, "Acme SSO");
    assert.equal(after.oidc.clockSkewSeconds, 90);
    assert.equal(
      gh.ctx.box.open(after.oidc.clientSecretSealed, `connection:${connectionId}`),
      secretBefore,
      "the blank secret field tested and kept the stored secret",
    );
    const [updated] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      connectionId,
      type: "connection.updated",
      limit: 1,
    });
    assert.deepEqual(updated?.detail?.changed, ["name", "clockSkewSeconds"]);
  });

  test("a wrong new secret is refused on the edit form, audited, and nothing is saved", async () => {
    const fields = await editForm(connectionId, { clientSecret: "wrong-secret", name: "Renamed" });
    const refused = await admin.post(`${gh.url}${OIDC}/${connectionId}/edit/test`, fields);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /id="clientSecret-error"/);
    assert.match(refused.body, /name="name"[^>]*value="Renamed"/, "the form keeps the values");
    assert.ok(!refused.body.includes("wrong-secret"), "the secret is not sent back");
    assert.equal((await stored()).name, "Acme SSO");
    const [tested] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      connectionId,
      type: "connection.tested",
      limit: 1,
    });
    assert.equal(tested?.outcome, "failure");
    assert.equal(tested?.detail?.editing, true);
  });
});

describe("the API's test of a connection with changes", () => {
  async function testThroughApi(id: string, body?: unknown) {
    const { key } = await createApiKey(gh.ctx, "acme", `test-${Math.random()}`);
    const response = await fetch(`${gh.url}/api/v1/connections/${id}/test`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  test("with PATCH's fields: those values are tested, nothing is saved", async () => {
    const started = await testThroughApi(connectionId, { emailClaim: "upn" });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const row = await gh.ctx.store.db
      .selectFrom("connection_tests")
      .select(["connection_id", "settings"])
      .where("id", "=", String(started.json.id))
      .executeTakeFirstOrThrow();
    assert.equal(row.connection_id, null, "a test of unsaved values");
    assert.equal(JSON.parse(row.settings ?? "{}").editing, connectionId);
    const result = await throughIdp(
      { status: 303, location: String(started.json.url), body: "" } as Answer,
      "bob@acme.test",
      "bob-password",
    );
    assert.match(result.body, /data-outcome="failure"/);
    assert.match(result.body, /SSO_EMAIL_MISSING/);
    assert.equal((await stored()).oidc.emailClaim, "email", "nothing saved");
  });

  test("without a body, or with {}, the saved settings are tested", async () => {
    for (const body of [undefined, {}]) {
      const started = await testThroughApi(connectionId, body);
      assert.equal(started.status, 201, JSON.stringify(started.json));
      const row = await gh.ctx.store.db
        .selectFrom("connection_tests")
        .select(["connection_id", "settings"])
        .where("id", "=", String(started.json.id))
        .executeTakeFirstOrThrow();
      assert.equal(row.connection_id, connectionId, JSON.stringify(body));
      assert.equal(row.settings, null);
    }
  });

  test("refusals are PATCH's: another protocol's field, a wrong secret", async () => {
    const saml = await testThroughApi(connectionId, { idpEntityId: "https://idp.example/" });
    assert.equal(saml.status, 400, JSON.stringify(saml.json));
    const wrong = await testThroughApi(connectionId, { clientSecret: "wrong-secret" });
    assert.equal(wrong.status, 400, JSON.stringify(wrong.json));
    assert.equal(wrong.json.code, "VALIDATION_FAILED");
    assert.ok((wrong.json.fields as Record<string, string>).clientSecret);
  });
});

describe("test sign-in of a private_key_jwt connection's edit", () => {
  let op: HostileProvider;
  let keyConnectionId: string;

  before(async () => {
    await verifyDomainsAsOperator(gh, organizationId, ["keys.test"]);
    op = await startHostileProvider({
      redirectUri: `${gh.url}/sso/oidc/callback`,
      user: { email: "kim@keys.test", sub: "kim" },
    });
    const { connection } = await createConnection(gh.ctx, {
      organizationId,
      input: {
        name: "Keys OP",
        issuer: op.issuer,
        clientId: op.clientId,
        clientSecret: "",
        domains: ["keys.test"],
        tokenEndpointAuthMethod: "private_key_jwt",
      },
      actorUserId: null,
    });
    assert.ok(connection.type === "oidc" && connection.jwksUrl);
    op.clientJwksUrl = connection.jwksUrl;
    keyConnectionId = connection.id;
    op.tokenRequests.length = 0;
  });
  after(() => op.close());

  test("signs its client assertion with the connection's own key, which the provider already holds", async () => {
    const fields = await editForm(keyConnectionId, { emailClaim: "email", extraScopes: "groups" });
    const started = await admin.post(`${gh.url}${OIDC}/${keyConnectionId}/edit/test`, fields);
    assert.equal(started.status, 303, started.body.slice(0, 500));
    const start = await admin.get(started.location as string);
    const authorize = start.location ?? "";
    assert.ok(authorize.startsWith(`${op.issuer}/authorize?`), authorize);
    assert.equal(new URL(authorize).searchParams.get("scope"), "openid email profile groups");
    const back = await admin.get(authorize);
    const callback = await admin.get(back.location as string);
    const result = await admin.get(callback.location as string);
    assert.match(result.body, /data-outcome="success"/, result.body.slice(0, 2000));
    assert.deepEqual(
      op.tokenRequests.map((r) => r.authMethod),
      ["private_key_jwt"],
    );
    assert.equal((await stored(keyConnectionId)).oidc.scopes, "openid email profile", "nothing saved");
  });
});
