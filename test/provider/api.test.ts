import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOperatorApiKey, createOrganizationApiKey } from "../../src/api/keys.js";
import { Browser, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";

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

test("an organization admin's session is refused with 403 AUTH_FORBIDDEN, not challenged with 401", async () => {
  const browser = new Browser();
  await passwordSignIn(browser, gh.url, ADMIN.email, ADMIN.password);
  const cookie = [...browser.cookies("localhost")].map(([k, v]) => `${k}=${v}`).join("; ");
  const me = await fetch(`${gh.url}/api/v1/me`, { headers: { cookie } });
  assert.equal(me.status, 200, "the session is signed in");
  for (const path of ["/api/v1/applications", "/api/v1/applications/00000000-0000-4000-8000-000000000000"]) {
    const answer = await fetch(`${gh.url}${path}`, { headers: { cookie } });
    assert.equal(answer.status, 403, path);
    assert.equal(answer.headers.get("www-authenticate"), null, "an authenticated caller is not challenged");
    const body = (await answer.json()) as { code: string; message: string };
    assert.equal(body.code, "AUTH_FORBIDDEN");
    assert.match(body.message, /operator API key/);
  }
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

test("a native application registers with RFC 8252's redirect URIs and no secret", async () => {
  const created = await call(operatorKey, "POST", "/api/v1/applications", {
    name: "Acme desktop",
    applicationType: "native",
    redirectUris: ["http://127.0.0.1/callback", "http://[::1]/callback", "com.example.app:/callback"],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.applicationType, "native");
  assert.equal(created.body.public, true, "a native application is public");
  assert.equal(created.body.tokenEndpointAuthMethod, "none");
  assert.equal(created.body.clientSecret, undefined);
  const read = await call(operatorKey, "GET", `/api/v1/applications/${created.body.clientId as string}`);
  assert.equal(read.body.applicationType, "native");
  assert.deepEqual(read.body.redirectUris, [
    "http://127.0.0.1/callback",
    "http://[::1]/callback",
    "com.example.app:/callback",
  ]);

  const web = await call(operatorKey, "POST", "/api/v1/applications", {
    name: "Acme SaaS",
    redirectUris: ["https://app.example/callback"],
  });
  assert.equal(web.body.applicationType, "web", "without applicationType, a web application as before");
});

test("a native application's unsafe redirect URIs, a secret, or a private scheme on a web application answer 400", async () => {
  const refusals: [Record<string, unknown>, string][] = [
    [{ applicationType: "native", redirectUris: ["javascript:alert(1)"] }, "redirectUris"],
    [{ applicationType: "native", redirectUris: ["data:text/html,x"] }, "redirectUris"],
    [{ applicationType: "native", redirectUris: ["file:///tmp/x"] }, "redirectUris"],
    [{ applicationType: "native", redirectUris: ["myapp:/callback"] }, "redirectUris"],
    [{ applicationType: "native", redirectUris: ["http.example.com:/callback"] }, "redirectUris"],
    [{ applicationType: "native", redirectUris: ["http://localhost/callback"] }, "redirectUris"],
    [{ applicationType: "native", redirectUris: ["http://app.example/callback"] }, "redirectUris"],
    [{ applicationType: "native", redirectUris: ["https://127.0.0.1/callback"] }, "redirectUris"],
    [
      {
        applicationType: "native",
        redirectUris: ["http://127.0.0.1/cb"],
        postLogoutRedirectUris: ["javascript:x"],
      },
      "postLogoutRedirectUris",
    ],
    [{ applicationType: "native", public: false, redirectUris: ["http://127.0.0.1/cb"] }, "public"],
    [
      {
        applicationType: "native",
        tokenEndpointAuthMethod: "client_secret_basic",
        redirectUris: ["http://127.0.0.1/cb"],
      },
      "tokenEndpointAuthMethod",
    ],
    [{ applicationType: "desktop", redirectUris: ["http://127.0.0.1/cb"] }, "applicationType"],
    // A web application, confidential or public, keeps today's rules.
    [{ redirectUris: ["com.example.app:/callback"] }, "redirectUris"],
    [{ public: true, redirectUris: ["com.example.app:/callback"] }, "redirectUris"],
  ];
  for (const [body, field] of refusals) {
    const refused = await call(operatorKey, "POST", "/api/v1/applications", { name: "App", ...body });
    assert.equal(refused.status, 400, JSON.stringify(body));
    assert.equal(refused.body.code, "VALIDATION_FAILED");
    assert.ok((refused.body.fields as Record<string, string>)[field], `${JSON.stringify(body)}: ${field}`);
  }
});
