/**
 * Sign-in through a third-party OpenID Provider: Debian's python3-authlib 1.2.0 on Flask
 * (authlib-op.py), which requires S256 PKCE and a nonce, authenticates the client by HTTP Basic
 * only, and signs RS256 ID tokens with its own key. Unlike oidc-provider it forgives nothing it
 * was not configured to. CI installs it (.ci/run); elsewhere the test skips when it is missing.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createConnection } from "../../src/connections/create.js";
import type { ErrorCode } from "../../src/errors.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { type Answer, Browser, errorCode } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./authlib-op.py", import.meta.url));
const available = spawnSync(PYTHON, ["-c", "import authlib, flask"], { stdio: "ignore" }).status === 0;
// CI installs python3-authlib and python3-flask, so there a missing package fails instead of skipping.
const skip = !available && !process.env.CI ? "python3-authlib and python3-flask are not installed" : false;

const CLIENT_ID = "gatehouse";
// As Authlib generates secrets: letters and digits, which HTTP Basic carries unescaped.
const CLIENT_SECRET = "Zq8vN3kT0pLr6WcY2hXe9Bu4Ds7Ag1Mf5Jn0Ko3Ri8Ut";
const PASSWORDS: Record<string, string> = {
  alice: "alice-password",
  bob: "bob-password",
  mallory: "mallory-password",
};

interface AuthorizationRecord {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  nonce: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  user: string;
}
interface TokenRequestRecord {
  status: number;
  error: string | null;
  authMethod?: string;
  codeVerifier?: string;
  user?: string;
}
interface OpLog {
  authorizations: AuthorizationRecord[];
  tokenRequests: TokenRequestRecord[];
}

interface AuthlibOp {
  issuer: string;
  log(): Promise<OpLog>;
  settings(values: { clientSecret?: string; signingKey?: "published" | "unpublished" }): Promise<void>;
  close(): Promise<void>;
}

async function startAuthlibOp(redirectUri: string): Promise<AuthlibOp> {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = once(child, "exit");
  child.stdin.end(JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri }));
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    void exited.then(() => reject(new Error(`authlib-op.py exited before it was ready:\n${stderr}`)));
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const { issuer } = JSON.parse(await ready.finally(() => clearTimeout(timer))) as { issuer: string };
  lines.close();
  return {
    issuer,
    async log() {
      return (await (await fetch(`${issuer}/test/log`)).json()) as OpLog;
    },
    async settings(values) {
      const answer = await fetch(`${issuer}/test/settings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(values),
      });
      assert.equal(answer.status, 200);
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

let gh: TestGatehouse;
let op: AuthlibOp;
let organizationId: string;
let connectionId: string;

before(async () => {
  if (skip) return;
  gh = await startGatehouse();
  ({ organizationId } = await seedAcme(gh));
  op = await startAuthlibOp(`${gh.url}/sso/oidc/callback`);
  const { connection } = await createConnection(gh.ctx, {
    organizationId,
    input: {
      name: "Acme Authlib",
      issuer: op.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      domains: ["acme.test"],
    },
    actorUserId: null,
  });
  connectionId = connection.id;
});

after(async () => {
  await op?.close();
  await gh?.close();
});

/**
 * Email-first sign-in: Gatehouse's redirect to the provider, the provider's sign-in form when
 * this browser has no session there (its own cookie), and Gatehouse's answer to the callback.
 * Returns the status of each leg with the final answer.
 */
async function signIn(
  browser: Browser,
  username: string,
  start = `/sso/start?email=${username}%40acme.test`,
): Promise<{ legs: number[]; answer: Answer }> {
  const legs: number[] = [];
  const toProvider = await browser.get(`${gh.url}${start}`);
  legs.push(toProvider.status);
  const authorizeUrl = toProvider.location ?? "";
  assert.ok(authorizeUrl.startsWith(`${op.issuer}/authorize?`), `start went to ${authorizeUrl}`);
  let atProvider = await browser.get(authorizeUrl);
  legs.push(atProvider.status);
  if (atProvider.status === 200) {
    const action = /<form method="post" action="([^"]+)"/.exec(atProvider.body)?.[1];
    assert.ok(action, `the provider's sign-in form: ${atProvider.body.slice(0, 300)}`);
    atProvider = await browser.post(new URL(action.replaceAll("&amp;", "&"), op.issuer).toString(), {
      username,
      password: PASSWORDS[username] ?? "",
    });
    legs.push(atProvider.status);
  }
  const callbackUrl = atProvider.location ?? "";
  assert.ok(
    callbackUrl.startsWith(`${gh.url}/sso/oidc/callback?`),
    `the provider answered ${atProvider.status} ${callbackUrl || atProvider.body.slice(0, 300)}`,
  );
  const answer = await browser.get(callbackUrl);
  legs.push(answer.status);
  return { legs, answer };
}

async function me(browser: Browser) {
  const answer = await browser.get(`${gh.url}/api/v1/me`);
  if (answer.status !== 200) return { status: answer.status };
  const body = JSON.parse(answer.body) as {
    user: { id: string; email: string };
    signInMethod: string;
    connection: { id: string } | null;
  };
  return {
    status: 200,
    id: body.user.id,
    email: body.user.email,
    method: body.signInMethod,
    connection: body.connection?.id,
  };
}

async function countUsers(email: string): Promise<number> {
  const rows = await gh.ctx.store.db.selectFrom("users").select("id").where("email", "=", email).execute();
  return rows.length;
}

/** A refused sign-in: Gatehouse's typed error as a 4xx page, no session, and the reason in the audit log. */
async function assertRefused(answer: Answer, browser: Browser, code: ErrorCode, reason: RegExp) {
  assert.ok(answer.status >= 400 && answer.status < 500, `status ${answer.status}`);
  assert.equal(errorCode(answer.body), code, answer.body.slice(0, 400));
  assert.equal((await me(browser)).status, 401);
  const [event] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "sign_in.sso",
    outcome: "failure",
    limit: 1,
  });
  assert.equal(event?.reasonCode, code);
  assert.equal(event?.connectionId, connectionId);
  assert.match(String(event?.detail?.detail), reason);
  assert.ok(
    event?.traceId && answer.body.includes(event.traceId),
    "the page shows the audit event's trace id",
  );
  assert.ok(!JSON.stringify(event).includes(CLIENT_SECRET), "no client secret in the audit log");
  return event;
}

describe("Authlib 1.2.0 (Debian) as the OpenID Provider", { skip }, () => {
  test("alice, bob and alice again sign in: provisioned on first sign-in, matched on return", async () => {
    const first = await signIn(new Browser(), "alice");
    assert.deepEqual(first.legs, [302, 200, 302, 303]);
    const alice = new Browser();
    const again = await signIn(alice, "alice");
    assert.deepEqual(again.legs, [302, 200, 302, 303]);
    const bob = new Browser();
    assert.deepEqual((await signIn(bob, "bob")).legs, [302, 200, 302, 303]);

    const aliceMe = await me(alice);
    const bobMe = await me(bob);
    assert.deepEqual(
      { ...aliceMe, id: undefined },
      { status: 200, id: undefined, email: "alice@acme.test", method: "sso", connection: connectionId },
    );
    assert.deepEqual(
      { ...bobMe, id: undefined },
      { status: 200, id: undefined, email: "bob@acme.test", method: "sso", connection: connectionId },
    );
    assert.notEqual(aliceMe.id, bobMe.id);
    assert.equal(await countUsers("alice@acme.test"), 1, "alice's return found her, not a new user");
    assert.equal(await countUsers("bob@acme.test"), 1);
    const identities = await gh.ctx.store.db
      .selectFrom("identities")
      .select(["user_id", "subject"])
      .where("provider_key", "=", `connection:${connectionId}`)
      .orderBy("subject")
      .execute();
    assert.deepEqual(identities, [
      { user_id: aliceMe.id, subject: "00u1alice" },
      { user_id: bobMe.id, subject: "00u2bob" },
    ]);
  });

  test("every sign-in sends S256 PKCE, a fresh nonce and state, and the client secret by HTTP Basic", async () => {
    const seen = await op.log();
    const browser = new Browser();
    await signIn(browser, "alice");
    // The provider remembers alice in this browser: the second sign-in skips its form.
    assert.deepEqual((await signIn(browser, "alice")).legs, [302, 302, 303]);
    await signIn(new Browser(), "bob");
    const log = await op.log();
    const authorizations = log.authorizations.slice(seen.authorizations.length);
    const tokenRequests = log.tokenRequests.slice(seen.tokenRequests.length);
    assert.equal(authorizations.length, 3);
    assert.deepEqual(
      authorizations.map((a) => a.user),
      ["alice", "alice", "bob"],
    );
    for (const a of authorizations) {
      assert.equal(a.clientId, CLIENT_ID);
      assert.equal(a.redirectUri, `${gh.url}/sso/oidc/callback`);
      assert.deepEqual(a.scope.split(" ").sort(), ["email", "openid", "profile"]);
      assert.equal(a.codeChallengeMethod, "S256");
      assert.match(a.codeChallenge, /^[A-Za-z0-9_-]{43}$/);
      assert.match(a.nonce, /^[A-Za-z0-9_-]{43,}$/);
      assert.match(a.state, /^[A-Za-z0-9_-]{22,}$/);
    }
    const everyNonce = log.authorizations.map((a) => a.nonce);
    assert.equal(new Set(everyNonce).size, everyNonce.length, "no nonce was ever sent twice");
    const everyState = log.authorizations.map((a) => a.state);
    assert.equal(new Set(everyState).size, everyState.length, "no state was ever sent twice");

    assert.equal(tokenRequests.length, 3);
    tokenRequests.forEach((t, i) => {
      assert.deepEqual(
        { status: t.status, error: t.error, authMethod: t.authMethod, user: t.user },
        { status: 200, error: null, authMethod: "client_secret_basic", user: authorizations[i]?.user },
      );
      // RFC 7636 4.2, checked here as well as by the provider: the verifier hashes to the challenge.
      const challenge = createHash("sha256")
        .update(t.codeVerifier ?? "")
        .digest("base64url");
      assert.equal(challenge, authorizations[i]?.codeChallenge);
    });
  });

  test("an account whose email is outside the connection's domains gets SSO_EMAIL_DOMAIN_NOT_ALLOWED", async () => {
    const browser = new Browser();
    const { answer } = await signIn(
      browser,
      "mallory",
      "/sso/start?organization=acme&connection=Acme%20Authlib",
    );
    const event = await assertRefused(answer, browser, "SSO_EMAIL_DOMAIN_NOT_ALLOWED", /evil\.test/);
    assert.equal(event?.detail?.check, "email_domain");
    assert.equal(await countUsers("mallory@evil.test"), 0);
  });

  test("an ID token signed by a key the provider does not publish gets SSO_ID_TOKEN_INVALID", async () => {
    await op.settings({ signingKey: "unpublished" });
    try {
      const browser = new Browser();
      const { answer } = await signIn(browser, "alice");
      await assertRefused(answer, browser, "SSO_ID_TOKEN_INVALID", /key|signature/i);
    } finally {
      await op.settings({ signingKey: "published" });
    }
    assert.equal(
      (await signIn(new Browser(), "alice")).answer.status,
      303,
      "the published key signs in again",
    );
  });

  test("a client secret regenerated at the provider gets SSO_TOKEN_REQUEST_FAILED from its invalid_client", async () => {
    await op.settings({ clientSecret: "Regenerated7Secret3At9The1Provider5Console0x" });
    try {
      const browser = new Browser();
      const { answer } = await signIn(browser, "bob");
      await assertRefused(answer, browser, "SSO_TOKEN_REQUEST_FAILED", /invalid_client/);
      const [last] = (await op.log()).tokenRequests.slice(-1);
      assert.deepEqual(
        { status: last?.status, error: last?.error },
        { status: 401, error: "invalid_client" },
      );
    } finally {
      await op.settings({ clientSecret: CLIENT_SECRET });
    }
  });
});
