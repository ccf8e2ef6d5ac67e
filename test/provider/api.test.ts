import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOperatorApiKey, createOrganizationApiKey } from "../../src/api/keys.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

let gh: TestGatehouse;
let operatorKey: string;
let organizationKey: string;

before(async () => {
  gh = await startGatehouse();
  const { organizationId } = await seedAcme(gh);
  operatorKey = (await createOperatorApiKey(gh.ctx, "ops")).key;
  organizationKey = (await createOrganizationApiKey(gh.ctx, organizationId, "ci", null)).key;
});
after(() => gh.close());

async function call(key: string | undefined, method: string, path: string, body?: unknown) {
  const response = await fetch(`${gh.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

test("/api/v1/applications admits only operator keys", async () => {
  assert.equal((await call(undefined, "GET", "/api/v1/applications")).status, 401);
  const byOrganization = await call(organizationKey, "GET", "/api/v1/applications");
  assert.equal(byOrganization.status, 403);
  assert.equal(byOrganization.body.code, "AUTH_FORBIDDEN");
});

test("an operator registers, reads, lists and deletes an application; the secret is in the create answer only", async () => {
  const created = await call(operatorKey, "POST", "/api/v1/applications", {
    name: "Acme SaaS",
    redirectUris: ["https://app.example/callback"],
    backchannelLogoutUri: "https://app.example/backchannel-logout",
  });
  assert.equal(created.status, 201);
  const clientId = created.body.clientId as string;
  assert.equal(typeof created.body.clientSecret, "string");
  assert.equal(created.body.tokenEndpointAuthMethod, "client_secret_basic");

  const read = await call(operatorKey, "GET", `/api/v1/applications/${clientId}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.clientSecret, undefined);
  const listed = await call(operatorKey, "GET", "/api/v1/applications");
  assert.ok(!JSON.stringify(listed.body).includes(created.body.clientSecret as string));
  assert.deepEqual(
    (listed.body.data as { clientId: string }[]).map((a) => a.clientId),
    [clientId],
  );

  assert.equal((await call(operatorKey, "DELETE", `/api/v1/applications/${clientId}`)).status, 204);
  const gone = await call(operatorKey, "GET", `/api/v1/applications/${clientId}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.code, "APPLICATION_NOT_FOUND");
});

test("invalid applications answer 400 with a message per field", async () => {
  const refused = await call(operatorKey, "POST", "/api/v1/applications", {
    name: "",
    redirectUris: ["http://app.example/callback"],
    public: "yes",
    extra: 1,
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.code, "VALIDATION_FAILED");
  const fields = refused.body.fields as Record<string, string>;
  assert.ok(fields.public && fields.extra, JSON.stringify(fields));
  const insecure = await call(operatorKey, "POST", "/api/v1/applications", {
    name: "App",
    redirectUris: ["http://app.example/callback"],
  });
  assert.equal(insecure.status, 400);
  assert.match((insecure.body.fields as Record<string, string>).redirectUris ?? "", /https/);
});
