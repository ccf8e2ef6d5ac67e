/**
 * Editing a connection, from the API (PATCH) and the admin page: every field, the secret
 * write-only (blank keeps it), the provider asked again when the issuer or the credentials
 * change (a wrong new secret saves nothing), `connection.updated` with the changed fields'
 * names and never a secret.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import { changedFields, connectionInputOf } from "../../src/connections/update.js";
import { validateConnectionInput } from "../../src/connections/validate.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { findConnectionById } from "../../src/store/connections.js";
import { oidcOf } from "../store/fixtures.js";
import { Browser, csrfToken } from "../support/browserless.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, ssoSignIn, startIdp } from "../support/sso.js";

const OIDC = "/admin/enterprise-authentication/oidc";
let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
let connectionId: string;
let key: string;

before(async () => {
  gh = await startGatehouse();
  idp = await startIdp(gh);
  ({ organizationId } = await seedAcme(gh));
  connectionId = (await connectAcme(gh, idp, organizationId)).id;
  key = (await createApiKey(gh.ctx, "acme", "edit")).key;
  const globex = await createOrganizationWithAdmin(gh.ctx, {
    slug: "globex",
    name: "Globex",
    adminEmail: "admin@globex.test",
    adminPassword: "correct horse battery staple",
  });
  await verifyDomainsAsOperator(gh, globex.organization.id, ["globex.test"]);
});
after(async () => {
  await idp.close();
  await gh.close();
});

async function patch(body: unknown, id = connectionId) {
  const response = await fetch(`${gh.url}/api/v1/connections/${id}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function updates() {
  return listAuditEvents(gh.ctx.store.db, {
    organizationId,
    connectionId,
    type: "connection.updated",
    limit: 20,
  });
}

async function stored() {
  const connection = await findConnectionById(gh.ctx.store.db, connectionId);
  assert.ok(connection?.protocol === "oidc");
  return connection;
}

test("changedFields names exactly the fields that differ; an equal secret is no change", () => {
  const current = validateConnectionInput(
    {
      name: "Acme Okta",
      issuer: "https://acme.okta.com",
      clientId: "id",
      clientSecret: "",
      domains: ["acme.com", "acme.co.uk"],
      emailClaim: "email",
    },
    { secretRequired: false },
  ).value;
  assert.deepEqual(changedFields(current, { ...current, domains: ["acme.co.uk", "acme.com"] }, false), []);
  assert.deepEqual(
    changedFields(current, { ...current, name: "Acme", clockSkewSeconds: 30, extraScopes: ["groups"] }, true),
    ["name", "clientSecret", "extraScopes", "clockSkewSeconds"],
  );
});

test("API: a PATCH of some fields changes those, audits their names, keeps the secret", async () => {
  const before = await stored();
  const answer = await patch({
    name: "Acme Workforce",
    emailClaim: "preferred_username",
    clockSkewSeconds: 90,
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(answer.body.changed, ["name", "emailClaim", "clockSkewSeconds"]);
  assert.equal(answer.body.name, "Acme Workforce");
  assert.equal(answer.body.clientSecret, "********");
  const after = await stored();
  assert.equal(oidcOf(after).clientSecretSealed, oidcOf(before).clientSecretSealed, "the secret is kept");
  assert.equal(oidcOf(after).emailClaim, "preferred_username");
  const [event] = await updates();
  assert.deepEqual(event?.detail?.changed, ["name", "emailClaim", "clockSkewSeconds"]);
  assert.equal(event?.detail?.previousName, "Acme Okta");
  // Back to what sign-ins need, for the tests below.
  assert.equal((await patch({ name: "Acme Okta", emailClaim: "email", clockSkewSeconds: 60 })).status, 200);
});

test("API: the same values again change nothing and record nothing", async () => {
  const count = (await updates()).length;
  const answer = await patch({ name: "Acme Okta", domains: ["ACME.test"] });
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body.changed, []);
  assert.equal((await updates()).length, count);
});

test("API: a wrong new secret is refused with the provider's answer; nothing is saved", async () => {
  const before = await stored();
  const answer = await patch({ clientSecret: "not-the-secret", name: "Renamed meanwhile" });
  assert.equal(answer.status, 400);
  assert.equal(answer.body.code, "VALIDATION_FAILED");
  const fields = answer.body.fields as Record<string, string>;
  assert.match(fields.clientSecret ?? "", /refused/);
  assert.match(fields.clientSecret ?? "", /invalid_client/, "quotes the provider");
  const after = await stored();
  assert.equal(after.updatedAt, before.updatedAt);
  assert.equal(after.name, "Acme Okta");
  assert.equal(oidcOf(after).clientSecretSealed, oidcOf(before).clientSecretSealed);
});

test("secret rotation: the provider's new secret is checked, saved and signs in; audited without its value", async () => {
  idp.setClientSecret("gatehouse-okta", "gatehouse-okta-secret-2027");
  try {
    const answer = await patch({ clientSecret: "gatehouse-okta-secret-2027" });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.changed, ["clientSecret"]);
    const [event] = await updates();
    assert.deepEqual(event?.detail?.changed, ["clientSecret"]);
    assert.ok(!JSON.stringify(event).includes("gatehouse-okta-secret-2027"), "never the secret");
    assert.equal(event?.detail?.tokenEndpointAuthMethod, "client_secret_basic");
    const browser = new Browser();
    assert.equal((await ssoSignIn(browser, gh, idp, "alice@acme.test", "alice-password")).status, 303);
    assert.equal((await browser.get(`${gh.url}/api/v1/me`)).status, 200);
  } finally {
    idp.setClientSecret("gatehouse-okta", "gatehouse-okta-secret");
    assert.equal((await patch({ clientSecret: "gatehouse-okta-secret" })).status, 200);
  }
});

test("API: a new issuer is discovered before anything is saved", async () => {
  const answer = await patch({ issuer: "http://127.0.0.1:1/nowhere" });
  assert.equal(answer.status, 400);
  assert.match(String(answer.body.code), /^SSO_/);
  assert.equal(oidcOf(await stored()).issuer, idp.issuer);
});

test("API: domains: another organization's verified domain is refused; an added one is listed", async () => {
  const taken = await patch({ domains: ["acme.test", "globex.test"] });
  assert.equal(taken.status, 409);
  assert.match((taken.body.fields as Record<string, string>).domains ?? "", /globex\.test/);
  const added = await patch({ domains: ["acme.test", "acme-labs.test"] });
  assert.equal(added.status, 200);
  assert.deepEqual(added.body.domains, ["acme-labs.test", "acme.test"]);
  const [event] = await updates();
  assert.deepEqual(event?.detail?.previousDomains, ["acme.test"]);
  assert.equal((await patch({ domains: ["acme.test"] })).status, 200);
});

test("API: invalid fields are 400 per field; unknown fields and another organization's ids are refused", async () => {
  const invalid = await patch({ clockSkewSeconds: 9999, domains: ["not a domain"] });
  assert.equal(invalid.status, 400);
  const fields = invalid.body.fields as Record<string, string>;
  assert.ok(fields.clockSkewSeconds && fields.domains, JSON.stringify(fields));
  assert.equal((await patch({ type: "oidc" })).status, 400);
  assert.equal((await patch({ name: "x" }, "00000000-0000-4000-8000-000000000000")).status, 404);
  assert.equal((await patch({ name: "x" }, "not-a-uuid")).status, 404);
});

test("admin page: the form is prefilled, a blank secret keeps it, a wrong one is refused beside the field", async () => {
  // The admin's domain has SSO: they sign in through it.
  const admin = new Browser();
  assert.equal((await ssoSignIn(admin, gh, idp, ADMIN.email, "admin-password")).status, 303);

  const page = await admin.get(`${gh.url}${OIDC}/${connectionId}`);
  assert.equal(page.status, 200);
  assert.match(page.body, /data-testid="edit-connection"/);
  const form = await admin.get(`${gh.url}${OIDC}/${connectionId}/edit`);
  assert.equal(form.status, 200);
  assert.match(form.body, /name="name"[^>]*value="Acme Okta"/);
  assert.match(form.body, new RegExp(`name="issuer"[^>]*value="${idp.issuer}"`));
  assert.match(form.body, /name="clientSecret"[^>]*value=""/);
  assert.ok(!form.body.includes("gatehouse-okta-secret"));
  const current = connectionInputOf(await stored());
  const fields = {
    _csrf: csrfToken(form.body),
    name: "Acme SSO",
    issuer: current.issuer,
    clientId: current.clientId,
    clientSecret: "",
    domains: "acme.test",
    tokenEndpointAuthMethod: "client_secret_basic",
    extraScopes: "",
    emailClaim: "email",
    clockSkewSeconds: "60",
    allowedTenants: "",
  };
  const saved = await admin.post(`${gh.url}${OIDC}/${connectionId}/edit`, fields);
  assert.equal(saved.status, 303);
  const shown = await admin.get(saved.location as string);
  assert.match(shown.body, /data-testid="connection-updated"/);
  assert.match(shown.body, /Changed: <span data-testid="changed-fields">Connection name<\/span>/);

  const again = await admin.get(`${gh.url}${OIDC}/${connectionId}/edit`);
  const refused = await admin.post(`${gh.url}${OIDC}/${connectionId}/edit`, {
    ...fields,
    _csrf: csrfToken(again.body),
    name: "Acme Okta",
    clientSecret: "wrong-secret",
  });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /id="clientSecret-error"/);
  assert.match(refused.body, /invalid_client/);
  assert.ok(!refused.body.includes("wrong-secret"), "the secret is not sent back");
  assert.equal((await stored()).name, "Acme SSO", "nothing saved");
});
