import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { createApiKey } from "../../src/api/keys.js";
import { type Answer, Browser, csrfToken, passwordSignIn } from "../support/browserless.js";
import { startGatehouse } from "../support/gatehouse.js";
import { ADMIN_EMAIL, ADMIN_PASSWORD, seedAcme, sessionCookie } from "./helpers.js";

/** A browser that keeps every answer, so no response body escapes the check. */
class RecordingBrowser extends Browser {
  readonly answers: Answer[] = [];

  override async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const answer = await super.request(url, init);
    this.answers.push(answer);
    return answer;
  }
}

test("no password, session cookie, secret key or API key appears in any log line or response body", async (t) => {
  const secretKey = randomBytes(32).toString("base64");
  const gh = await startGatehouse({ env: { GATEHOUSE_SECRET_KEY: secretKey } });
  const browsers: RecordingBrowser[] = [];
  const browser = (): RecordingBrowser => {
    const b = new RecordingBrowser();
    browsers.push(b);
    return b;
  };
  const wrongPassword = `wrong-${randomBytes(12).toString("base64url")}`;
  const unknownPassword = `unknown-${randomBytes(12).toString("base64url")}`;
  const secrets = new Map<string, string>([
    ["the password", ADMIN_PASSWORD],
    ["a wrong password", wrongPassword],
    ["an unknown account's password", unknownPassword],
    ["the secret key", secretKey],
    ["the secret key (base64url)", Buffer.from(secretKey, "base64").toString("base64url")],
    ["the secret key (hex)", Buffer.from(secretKey, "base64").toString("hex")],
    ["the cookie-signing key", gh.ctx.cookieSecret.toString("base64url")],
  ]);
  try {
    await seedAcme(gh);

    const failed = await passwordSignIn(browser(), gh.url, ADMIN_EMAIL, wrongPassword);
    assert.equal(failed.status, 401);
    const unknown = await passwordSignIn(browser(), gh.url, "nobody@acme.test", unknownPassword);
    assert.equal(unknown.status, 401);

    const user = browser();
    assert.equal((await passwordSignIn(user, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD)).status, 303);
    const session = sessionCookie(user, gh);
    assert.ok(session);
    secrets.set("the session cookie", session);
    secrets.set("the CSRF cookie", user.cookies().get("gh_csrf") ?? "unset");
    const home = await user.get(`${gh.url}/`);
    await user.get(`${gh.url}/api/v1/me`);
    await user.get(`${gh.url}/no-such-page`);
    assert.equal((await user.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) })).status, 303);

    // A replayed, revoked cookie is refused; its value must not be logged as it is refused.
    const replay = browser();
    replay.cookies().set("gh_session", session);
    await replay.get(`${gh.url}/`);

    const { key } = await createApiKey(gh.ctx, "acme", "ci");
    secrets.set("the API key", key);
    const api = browser();
    const users = await api.get(`${gh.url}/api/v1/users`, { authorization: `Bearer ${key}` });
    if (users.status === 404 && !users.body.includes(ADMIN_EMAIL)) {
      t.diagnostic("GET /api/v1/users does not exist yet: the API-key part was skipped");
    } else {
      assert.equal(users.status, 200);
      assert.ok(users.body.includes(ADMIN_EMAIL));
      const badKey = `ghk_${randomBytes(32).toString("base64url")}`;
      secrets.set("a wrong API key", badKey);
      const refused = await api.get(`${gh.url}/api/v1/users`, { authorization: `Bearer ${badKey}` });
      assert.equal(refused.status, 401);
    }

    const logs = gh.logs.join("");
    assert.ok(gh.logs.length > 10, "the requests were logged");
    assert.ok(logs.includes("/login/password"), "request lines are in the captured log");
    const bodies = browsers.flatMap((b) => b.answers);
    for (const [label, secret] of secrets) {
      assert.ok(!logs.includes(secret), `${label} appears in the logs`);
      for (const answer of bodies) {
        assert.ok(!answer.body.includes(secret), `${label} appears in the body of ${answer.url}`);
      }
    }
  } finally {
    await gh.close();
  }
});
