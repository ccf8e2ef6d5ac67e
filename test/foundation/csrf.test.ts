import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  countSessions,
  isSignedIn,
  seedAcme,
  sessionCookie,
} from "./helpers.js";

let gh: TestGatehouse;
before(async () => {
  gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "1000" } });
  await seedAcme(gh);
});
after(() => gh.close());

/** A browser that has opened the login page (so it holds a CSRF cookie), and that page's token. */
async function withLoginPage(): Promise<{ browser: Browser; token: string }> {
  const browser = new Browser();
  const page = await browser.get(`${gh.url}/login`);
  return { browser, token: csrfToken(page.body) };
}

function assertCsrfRefused(answer: { status: number; body: string; location: string | undefined }) {
  assert.equal(answer.status, 403);
  assert.equal(errorCode(answer.body), "CSRF_INVALID");
  assert.equal(answer.location, undefined);
}

const forms = {
  "/login": { email: ADMIN_EMAIL },
  "/login/password": { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
} as const;

for (const [path, fields] of Object.entries(forms)) {
  describe(`POST ${path}`, () => {
    test("without a token (and without the CSRF cookie) is refused", async () => {
      const browser = new Browser();
      assertCsrfRefused(await browser.post(`${gh.url}${path}`, { ...fields }));
    });

    test("without a token from a browser holding the CSRF cookie is refused", async () => {
      const { browser } = await withLoginPage();
      const before = await countSessions(gh);
      assertCsrfRefused(await browser.post(`${gh.url}${path}`, { ...fields }));
      assert.equal(await countSessions(gh), before, "no session created");
      assert.equal(sessionCookie(browser, gh), undefined);
    });

    test("with a token from another browser is refused", async () => {
      const victim = await withLoginPage();
      const attacker = await withLoginPage();
      const before = await countSessions(gh);
      assertCsrfRefused(await victim.browser.post(`${gh.url}${path}`, { ...fields, _csrf: attacker.token }));
      assert.equal(await countSessions(gh), before, "no session created");
      assert.equal(sessionCookie(victim.browser, gh), undefined);
    });

    test("with a forged token is refused", async () => {
      const { browser, token } = await withLoginPage();
      const forged = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
      assertCsrfRefused(await browser.post(`${gh.url}${path}`, { ...fields, _csrf: forged }));
    });

    test("with the token in the x-csrf-token header is accepted", async () => {
      const { browser, token } = await withLoginPage();
      const answer = await browser.request(`${gh.url}${path}`, {
        method: "POST",
        form: { ...fields },
        headers: { "x-csrf-token": token },
      });
      assert.ok(answer.status === 200 || answer.status === 303, `status ${answer.status}`);
    });
  });
}

test("the password step refused for CSRF creates no session even with the right password", async () => {
  const { browser } = await withLoginPage();
  const before = await countSessions(gh);
  assertCsrfRefused(
    await browser.post(`${gh.url}/login/password`, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  );
  assert.equal(await countSessions(gh), before);
  assert.equal(await isSignedIn(browser, gh), false);
});

describe("POST /logout", () => {
  async function signedIn(): Promise<{ browser: Browser; token: string }> {
    const browser = new Browser();
    assert.equal((await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD)).status, 303);
    const home = await browser.get(`${gh.url}/`);
    return { browser, token: csrfToken(home.body) };
  }

  test("without a token is refused and the session stays valid", async () => {
    const { browser } = await signedIn();
    const cookie = sessionCookie(browser, gh);
    assertCsrfRefused(await browser.post(`${gh.url}/logout`, {}));
    assert.equal(sessionCookie(browser, gh), cookie, "the cookie is not cleared");
    assert.ok(await isSignedIn(browser, gh));
  });

  test("with a token from another browser is refused and the session stays valid", async () => {
    const victim = await signedIn();
    const attacker = await signedIn();
    assertCsrfRefused(await victim.browser.post(`${gh.url}/logout`, { _csrf: attacker.token }));
    assert.ok(await isSignedIn(victim.browser, gh));
    assert.ok(await isSignedIn(attacker.browser, gh));
  });

  test("with a token from a signed-out login page of another browser is refused", async () => {
    const victim = await signedIn();
    const attacker = await withLoginPage();
    assertCsrfRefused(await victim.browser.post(`${gh.url}/logout`, { _csrf: attacker.token }));
    assert.ok(await isSignedIn(victim.browser, gh));
  });

  test("with the page's own token signs out", async () => {
    const { browser, token } = await signedIn();
    assert.equal((await browser.post(`${gh.url}/logout`, { _csrf: token })).status, 303);
    assert.equal(await isSignedIn(browser, gh), false);
  });
});
