import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { lastLine, runGatehouseCli } from "../support/cli.js";

let dir: string;
let env: Record<string, string>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), "gatehouse-app-cli-"));
  env = {
    GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "g.db")}`,
    GATEHOUSE_BASE_URL: "https://sso.example.com",
  };
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("app create prints the client id, and the secret once on the last line; list never shows it; delete removes", async () => {
  const created = await runGatehouseCli(
    env,
    "app",
    "create",
    "--name",
    "Acme SaaS",
    "--redirect-uri",
    "https://app.example/callback",
    "--redirect-uri",
    "http://localhost:3002/callback",
    "--post-logout-redirect-uri",
    "https://app.example/",
    "--backchannel-logout-uri",
    "https://app.example/backchannel-logout",
  );
  assert.equal(created.code, 0, created.stderr);
  const clientId = /Client ID: (\S+)/.exec(created.stdout)?.[1] ?? "";
  assert.match(clientId, UUID);
  assert.match(created.stdout, /Issuer: +https:\/\/sso\.example\.com\n/);
  const secret = lastLine(created.stdout);
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);

  const listed = await runGatehouseCli(env, "app", "list");
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^CLIENT ID +NAME +TYPE +REDIRECT URIS\n/);
  assert.match(
    listed.stdout,
    new RegExp(`^${clientId} +Acme SaaS +client_secret_basic +https://app\\.example/callback`, "m"),
  );
  assert.ok(!listed.stdout.includes(secret), "the secret is shown once, at creation");
  const json = await runGatehouseCli(env, "app", "list", "--json");
  assert.equal(json.code, 0, json.stderr);
  assert.ok(!json.stdout.includes(secret));
  const [app, ...others] = JSON.parse(json.stdout) as Record<string, unknown>[];
  assert.deepEqual(others, []);
  assert.deepEqual(
    { ...app, createdAt: typeof app?.createdAt },
    {
      clientId,
      name: "Acme SaaS",
      applicationType: "web",
      public: false,
      tokenEndpointAuthMethod: "client_secret_basic",
      redirectUris: ["https://app.example/callback", "http://localhost:3002/callback"],
      postLogoutRedirectUris: ["https://app.example/"],
      backchannelLogoutUri: "https://app.example/backchannel-logout",
      jwksUri: null,
      createdAt: "string",
    },
    "the API's application object, without a secret",
  );

  const deleted = await runGatehouseCli(env, "app", "delete", "--client-id", clientId);
  assert.equal(deleted.code, 0, deleted.stderr);
  const again = await runGatehouseCli(env, "app", "delete", "--client-id", clientId);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /No application has this client id/);
});

test("app create --public has no secret; a bad redirect URI is refused per field", async () => {
  const created = await runGatehouseCli(
    env,
    "app",
    "create",
    "--name",
    "SPA",
    "--public",
    "--redirect-uri",
    "https://spa.example/cb",
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(lastLine(created.stdout), /^Client ID: /);
  const refused = await runGatehouseCli(
    env,
    "app",
    "create",
    "--name",
    "Bad",
    "--redirect-uri",
    "http://app.example/cb#frag",
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^ {2}--redirect-uri: .*fragment/m, "the field names the flag that set it");
  assert.doesNotMatch(refused.stderr, /--redirect-uris/);
});

test("app create --native registers a public native application with a loopback and a private-use redirect", async () => {
  const created = await runGatehouseCli(
    env,
    "app",
    "create",
    "--name",
    "Acme desktop",
    "--native",
    "--redirect-uri",
    "http://127.0.0.1/callback",
    "--redirect-uri",
    "com.example.app:/callback",
  );
  assert.equal(created.code, 0, created.stderr);
  const clientId = lastLine(created.stdout).replace(/^Client ID: /, "");
  assert.match(clientId, UUID, "no secret after the client id");
  const listed = await runGatehouseCli(env, "app", "list");
  assert.match(
    listed.stdout,
    new RegExp(`${clientId} +Acme desktop +native +http://127\\.0\\.0\\.1/callback`),
  );
  const refused = await runGatehouseCli(
    env,
    "app",
    "create",
    "--name",
    "Bad",
    "--native",
    "--redirect-uri",
    "javascript:alert(1)",
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--redirect-uri: .*reverse-domain/);
});

test("keys rotate publishes a new key that signs after the overlap", async () => {
  const rotated = await runGatehouseCli(env, "keys", "rotate", "--overlap-hours", "1");
  assert.equal(rotated.code, 0, rotated.stderr);
  const match = /Published signing key (\S+); it signs from (\S+)\./.exec(rotated.stdout);
  assert.ok(match);
  const signsFrom = Date.parse(match[2] ?? "");
  assert.ok(Math.abs(signsFrom - (Date.now() + 3600_000)) < 120_000);
  const refused = await runGatehouseCli(env, "keys", "rotate", "--overlap-hours", "soon");
  assert.equal(refused.code, 2);
});
