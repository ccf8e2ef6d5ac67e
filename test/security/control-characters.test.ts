import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createApiKey } from "../../src/api/keys.js";
import { findUnstorableText } from "../../src/web/input-guard.js";
import { Browser, csrfToken, errorCode } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

// Runs on SQLite, and on PostgreSQL with GATEHOUSE_TEST_DATABASE=postgres: PostgreSQL answered
// 500 ("invalid byte sequence for encoding UTF8: 0x00") to each of these before.
let gh: TestGatehouse;
let key: string;

before(async () => {
  gh = await startGatehouse();
  await seedAcme(gh);
  ({ key } = await createApiKey(gh.ctx, "acme", "ci"));
});
after(() => gh.close());

test("a NUL byte in the password form's email is refused with 400, signed out", async () => {
  const browser = new Browser();
  const page = await browser.get(`${gh.url}/login`);
  const answer = await browser.post(`${gh.url}/login/password`, {
    _csrf: csrfToken(page.body),
    email: "a\u0000@x.com",
    password: "whatever-password",
  });
  assert.equal(answer.status, 400);
  assert.equal(errorCode(answer.body), "REQUEST_INVALID");
});

test("a NUL byte in the connection name of /sso/start is refused with 400", async () => {
  const answer = await new Browser().get(`${gh.url}/sso/start?connection=a%00b`);
  assert.equal(answer.status, 400);
  assert.equal(errorCode(answer.body), "REQUEST_INVALID");
});

test("a NUL byte in a connection's clientId is refused with 400 and names the field", async () => {
  const response = await fetch(`${gh.url}/api/v1/connections`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      type: "oidc",
      name: "Acme",
      issuer: "https://idp.acme.test",
      clientId: "client\u0000id",
      clientSecret: "secret",
      domains: ["acme.test"],
    }),
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { code: string; fields?: Record<string, string> };
  assert.equal(body.code, "REQUEST_INVALID");
  assert.ok(body.fields?.clientId);
});

test("a lone surrogate in a JSON body is refused with 400", async () => {
  const response = await fetch(`${gh.url}/api/v1/connections`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: '{"type":"oidc","name":"Acme \\ud800","issuer":"https://idp.acme.test"}',
  });
  assert.equal(response.status, 400);
  assert.equal(((await response.json()) as { code: string }).code, "REQUEST_INVALID");
});

test("findUnstorableText finds control characters and lone surrogates anywhere, keys included", () => {
  const cases: [value: unknown, expected: string | undefined][] = [
    ["plain text, tabs\tand\nlines\r", undefined],
    ["emoji 😀 are pairs", undefined],
    ["nul\u0000", "x"],
    ["bell\u0007", "x"],
    ["del\u007f", "x"],
    ["escape\u001b[31m", "x"],
    ["\ud83d alone", "x"],
    ["alone \ude00", "x"],
    [{ a: ["ok", "no\u0000"] }, "x.a.1"],
    [{ "k\u0000": "v" }, "x.k\u0000"],
    [42, undefined],
    [null, undefined],
  ];
  for (const [value, expected] of cases) assert.equal(findUnstorableText(value, "x"), expected);
});
