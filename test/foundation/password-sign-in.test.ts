import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN_EMAIL, ADMIN_PASSWORD, isSignedIn, seedAcme } from "./helpers.js";

const WINDOW_SECONDS = 900;

/** The page with everything that may legitimately differ (the echoed email, the CSRF token) blanked. */
function comparable(body: string, email: string): string {
  return body
    .replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value=""')
    .replaceAll(encodeURIComponent(email), "EMAIL")
    .replaceAll(email, "EMAIL");
}

describe("password sign-in", () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "1000" } });
    await seedAcme(gh);
  });
  after(() => gh.close());

  test("the right password answers 303 to / and the home page shows the user and organization", async () => {
    const browser = new Browser();
    const answer = await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    assert.equal(answer.status, 303);
    assert.equal(answer.location, `${gh.url}/`);
    const home = await browser.get(`${gh.url}/`);
    assert.match(home.body, /data-field="email">admin@acme\.test</);
    assert.match(home.body, /data-field="organization">Acme</);
    assert.match(home.body, /data-field="method">Password</);
  });

  test("the email is matched case-insensitively and trimmed", async () => {
    const browser = new Browser();
    const answer = await passwordSignIn(browser, gh.url, "  Admin@ACME.test ", ADMIN_PASSWORD);
    assert.equal(answer.status, 303);
    assert.ok(await isSignedIn(browser, gh));
  });

  test("a wrong password and an unknown email get the same status and the same page", async () => {
    const wrong = await passwordSignIn(new Browser(), gh.url, ADMIN_EMAIL, "not the password at all");
    const unknownEmail = "nobody@acme.test";
    const unknown = await passwordSignIn(new Browser(), gh.url, unknownEmail, ADMIN_PASSWORD);
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, wrong.status);
    assert.ok(wrong.body.includes(ADMIN_EMAIL), "the email is echoed back");
    assert.equal(comparable(unknown.body, unknownEmail), comparable(wrong.body, ADMIN_EMAIL));
    assert.ok(!(wrong.headers.get("set-cookie") ?? "").includes("gh_session"), "no session cookie");
  });

  test("an unknown email still gets the password step, like a known one", async () => {
    const known = new Browser();
    const knownStep = await known.post(`${gh.url}/login`, {
      _csrf: csrfToken((await known.get(`${gh.url}/login`)).body),
      email: ADMIN_EMAIL,
    });
    const unknown = new Browser();
    const unknownStep = await unknown.post(`${gh.url}/login`, {
      _csrf: csrfToken((await unknown.get(`${gh.url}/login`)).body),
      email: "nobody@acme.test",
    });
    assert.equal(knownStep.status, 200);
    assert.equal(unknownStep.status, 200);
    assert.equal(comparable(unknownStep.body, "nobody@acme.test"), comparable(knownStep.body, ADMIN_EMAIL));
  });

  test("an invalid email on the first step is answered with the form again, not an error", async () => {
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/login`);
    const answer = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(page.body),
      email: "not-an-email",
    });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /aria-invalid="true"/);
    assert.match(answer.body, /value="not-an-email"/);
  });

  test("GET /login/password (a reload or bookmark of the password step) answers 303 to the email step", async () => {
    const bare = await new Browser().get(`${gh.url}/login/password`);
    assert.equal(bare.status, 303);
    assert.equal(bare.location, `${gh.url}/login`);

    const kept = await new Browser().get(
      `${gh.url}/login/password?email=${encodeURIComponent(ADMIN_EMAIL)}&return_to=${encodeURIComponent("/admin?x=1")}`,
    );
    assert.equal(kept.status, 303);
    const to = new URL(kept.location ?? "");
    assert.equal(to.origin + to.pathname, `${gh.url}/login`);
    assert.equal(to.searchParams.get("email"), ADMIN_EMAIL);
    assert.equal(to.searchParams.get("return_to"), "/admin?x=1");
    const page = await new Browser().get(to.href);
    assert.match(page.body, /name="email"[^>]*value="admin@acme\.test"/);

    // Never a way off the site: a foreign return_to is dropped, the Location stays on /login.
    for (const hostile of ["https://evil.test/", "//evil.test/", "/\\evil.test", "javascript:alert(1)"]) {
      const answer = await new Browser().get(
        `${gh.url}/login/password?return_to=${encodeURIComponent(hostile)}`,
      );
      assert.equal(answer.status, 303, hostile);
      assert.equal(answer.location, `${gh.url}/login`, hostile);
    }
  });
});

describe("password rate limits", () => {
  test("after the per-account failures a new browser waits a delay, then the right password works", async () => {
    const gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: "3" } });
    try {
      await seedAcme(gh);
      for (let i = 0; i < 3; i++) {
        const failed = await passwordSignIn(new Browser(), gh.url, ADMIN_EMAIL, `wrong password ${i}`);
        assert.equal(failed.status, 401, `attempt ${i + 1} is an ordinary failure`);
      }
      const browser = new Browser();
      const limited = await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      assert.equal(limited.status, 429);
      assert.equal(errorCode(limited.body), "AUTH_RATE_LIMITED");
      const retryAfter = Number(limited.headers.get("retry-after"));
      assert.ok(retryAfter > 0 && retryAfter <= 30, `a delay, not a lockout: retry-after ${retryAfter}`);
      assert.equal(await isSignedIn(browser, gh), false);

      // Another address from the same network is not delayed by this account's failures.
      const other = await passwordSignIn(new Browser(), gh.url, "someone@acme.test", "whatever it is");
      assert.equal(other.status, 401);

      gh.advance(retryAfter * 1000);
      const again = await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      assert.equal(again.status, 303);
      assert.ok(await isSignedIn(browser, gh));
    } finally {
      await gh.close();
    }
  });

  test("the account limit is not dodged by changing the email's case or spacing", async () => {
    const gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: "3" } });
    try {
      await seedAcme(gh);
      for (const variant of ["admin@acme.test", "ADMIN@acme.test", " admin@Acme.Test"]) {
        assert.equal((await passwordSignIn(new Browser(), gh.url, variant, "wrong password")).status, 401);
      }
      const limited = await passwordSignIn(new Browser(), gh.url, "Admin@ACME.TEST", ADMIN_PASSWORD);
      assert.equal(limited.status, 429);
      assert.equal(errorCode(limited.body), "AUTH_RATE_LIMITED");
    } finally {
      await gh.close();
    }
  });

  test("after the per-IP limit every account from that address answers 429 until the window passes", async () => {
    const gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "3" } });
    try {
      await seedAcme(gh);
      for (let i = 0; i < 3; i++) {
        const failed = await passwordSignIn(new Browser(), gh.url, `guess${i}@acme.test`, "wrong password");
        assert.equal(failed.status, 401, `attempt ${i + 1} is an ordinary failure`);
      }
      const browser = new Browser();
      const limited = await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      assert.equal(limited.status, 429);
      assert.equal(errorCode(limited.body), "AUTH_RATE_LIMITED");
      assert.ok(Number(limited.headers.get("retry-after")) > 0);

      gh.advance(WINDOW_SECONDS * 1000);
      const again = await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      assert.equal(again.status, 303);
    } finally {
      await gh.close();
    }
  });

  test("successful sign-ins do not use up the per-IP allowance of an office behind one address", async () => {
    const gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "3" } });
    try {
      await seedAcme(gh);
      for (let i = 0; i < 6; i++) {
        const answer = await passwordSignIn(new Browser(), gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
        assert.equal(answer.status, 303, `sign-in ${i + 1} succeeds`);
      }
    } finally {
      await gh.close();
    }
  });
});

describe("password sign-in for a second organization", () => {
  test("the home page shows the organization the user belongs to", async () => {
    const gh = await startGatehouse();
    try {
      await seedAcme(gh);
      await createOrganizationWithAdmin(gh.ctx, {
        slug: "globex",
        name: "Globex",
        adminEmail: "hank@globex.test",
        adminPassword: "another long password",
      });
      const browser = new Browser();
      assert.equal(
        (await passwordSignIn(browser, gh.url, "hank@globex.test", "another long password")).status,
        303,
      );
      const home = await browser.get(`${gh.url}/`);
      assert.match(home.body, /data-field="organization">Globex</);
      assert.doesNotMatch(home.body, /Acme/);
    } finally {
      await gh.close();
    }
  });
});
