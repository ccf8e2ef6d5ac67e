import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Browser, csrfToken, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN_EMAIL, ADMIN_PASSWORD, isSignedIn, seedAcme, sessionCookie } from "./helpers.js";

let gh: TestGatehouse;
before(async () => {
  gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "1000" } });
  await seedAcme(gh);
});
after(() => gh.close());

/** A fresh browser holding only the given session cookie, as an attacker replaying it would. */
function replaying(value: string): Browser {
  const browser = new Browser();
  browser
    .cookies()
    .set(gh.ctx.config.baseUrl.protocol === "https:" ? "__Host-gh_session" : "gh_session", value);
  return browser;
}

function attributes(setCookie: string): string[] {
  return setCookie
    .split(";")
    .slice(1)
    .map((a) => a.trim().toLowerCase());
}

/** Drives the two sign-in steps in-process, returning the session's Set-Cookie header. */
async function injectSignIn(app: TestGatehouse["app"]): Promise<string> {
  const page = await app.inject({ method: "GET", url: "/login" });
  const csrfCookie = page.cookies.find((c) => /^(__Host-)?gh_csrf$/.test(c.name));
  assert.ok(csrfCookie, "the login page sets the CSRF cookie");
  const answer = await app.inject({
    method: "POST",
    url: "/login/password",
    cookies: { [csrfCookie.name]: csrfCookie.value },
    payload: new URLSearchParams({
      _csrf: csrfToken(page.body),
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
    }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  assert.equal(answer.statusCode, 303);
  const header = answer.headers["set-cookie"];
  const lines = Array.isArray(header) ? header : header ? [header] : [];
  const session = lines.find((l) => /^(__Host-)?gh_session=/.test(l));
  assert.ok(session, "the sign-in sets a session cookie");
  return session;
}

describe("session cookie", () => {
  test("a new session id at every sign-in, and the previous one stops working", async () => {
    const browser = new Browser();
    assert.equal((await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD)).status, 303);
    const first = sessionCookie(browser, gh);
    assert.ok(first);
    assert.equal((await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD)).status, 303);
    const second = sessionCookie(browser, gh);
    assert.ok(second);
    assert.notEqual(second, first);
    assert.ok(await isSignedIn(browser, gh));
    assert.equal(await isSignedIn(replaying(first), gh), false);
  });

  test("a session id planted before sign-in is never adopted (session fixation)", async () => {
    const browser = replaying("planted-by-an-attacker");
    assert.equal((await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD)).status, 303);
    assert.notEqual(sessionCookie(browser, gh), "planted-by-an-attacker");
    assert.equal(await isSignedIn(replaying("planted-by-an-attacker"), gh), false);
  });

  test("on an http base URL the cookie is HttpOnly, SameSite=Lax, Path=/ and not Secure", async () => {
    const setCookie = await injectSignIn(gh.app);
    assert.match(setCookie, /^gh_session=/);
    const attrs = attributes(setCookie);
    assert.ok(attrs.includes("httponly"), setCookie);
    assert.ok(attrs.includes("samesite=lax"), setCookie);
    assert.ok(attrs.includes("path=/"), setCookie);
    assert.ok(!attrs.includes("secure"), setCookie);
    assert.ok(!attrs.some((a) => a.startsWith("domain=")), setCookie);
  });

  test("on an https base URL the cookie is Secure and carries the __Host- prefix", async () => {
    const secure = await startGatehouse({ env: { GATEHOUSE_BASE_URL: "https://sso.acme.example" } });
    try {
      await seedAcme(secure);
      const setCookie = await injectSignIn(secure.app);
      assert.match(setCookie, /^__Host-gh_session=/);
      const attrs = attributes(setCookie);
      assert.ok(attrs.includes("secure"), setCookie);
      assert.ok(attrs.includes("httponly"), setCookie);
      assert.ok(attrs.includes("samesite=lax"), setCookie);
      // __Host- cookies must have Path=/ and no Domain, or browsers drop them.
      assert.ok(attrs.includes("path=/"), setCookie);
      assert.ok(!attrs.some((a) => a.startsWith("domain=")), setCookie);
    } finally {
      await secure.close();
    }
  });
});

describe("sign-out", () => {
  test("logout revokes the session server-side: a kept copy of the cookie is signed out", async () => {
    const browser = new Browser();
    await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const kept = sessionCookie(browser, gh);
    assert.ok(kept);
    const home = await browser.get(`${gh.url}/`);
    const out = await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal(out.status, 303);
    assert.equal(sessionCookie(browser, gh), undefined, "the browser's cookie is cleared");
    assert.equal(await isSignedIn(browser, gh), false);
    assert.equal(await isSignedIn(replaying(kept), gh), false);
  });

  test("logout ends only this browser's session", async () => {
    const laptop = new Browser();
    const phone = new Browser();
    await passwordSignIn(laptop, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    await passwordSignIn(phone, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const home = await laptop.get(`${gh.url}/`);
    await laptop.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal(await isSignedIn(laptop, gh), false);
    assert.ok(await isSignedIn(phone, gh));
  });
});

describe("session expiry", () => {
  test("a session ends after its lifetime", async () => {
    const short = await startGatehouse({ env: { GATEHOUSE_SESSION_TTL_SECONDS: "3600" } });
    try {
      await seedAcme(short);
      const browser = new Browser();
      await passwordSignIn(browser, short.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      short.advance(3600 * 1000 - 1000);
      assert.ok(await isSignedIn(browser, short), "still valid just before the end");
      short.advance(2000);
      assert.equal(await isSignedIn(browser, short), false);
    } finally {
      await short.close();
    }
  });
});

describe("return_to", () => {
  /** Signs in from `/login?return_to=...`, submitting the forms exactly as the pages render them. */
  async function signInFrom(returnTo: string): Promise<string | undefined> {
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/login?return_to=${encodeURIComponent(returnTo)}`);
    const carried = (body: string) => /name="return_to" value="([^"]*)"/.exec(body)?.[1];
    const first: Record<string, string> = { _csrf: csrfToken(page.body), email: ADMIN_EMAIL };
    const fromPage = carried(page.body);
    if (fromPage !== undefined) first.return_to = decodeEntities(fromPage);
    const step = await browser.post(`${gh.url}/login`, first);
    const second: Record<string, string> = {
      _csrf: csrfToken(step.body),
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
    };
    const fromStep = carried(step.body);
    if (fromStep !== undefined) second.return_to = decodeEntities(fromStep);
    const done = await browser.post(`${gh.url}/login/password`, second);
    assert.equal(done.status, 303);
    return done.location;
  }

  /** Posts a `return_to` straight to the password step, skipping what the pages would carry. */
  async function postedDirectly(returnTo: string): Promise<string | undefined> {
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/login`);
    const done = await browser.post(`${gh.url}/login/password`, {
      _csrf: csrfToken(page.body),
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
      return_to: returnTo,
    });
    assert.equal(done.status, 303);
    return done.location;
  }

  for (const path of ["/admin", "/admin/enterprise-authentication/oidc?tab=setup#domains"]) {
    test(`a same-origin path is honoured: ${path}`, async () => {
      assert.equal(await signInFrom(path), `${gh.url}${path}`);
      assert.equal(await postedDirectly(path), `${gh.url}${path}`);
    });
  }

  for (const hostile of [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/.//evil.example",
    "javascript:alert(1)",
    " //evil.example",
  ]) {
    test(`an off-site target is ignored: ${JSON.stringify(hostile)}`, async () => {
      const fromLogin = await signInFrom(hostile);
      const direct = await postedDirectly(hostile);
      for (const location of [fromLogin, direct]) {
        assert.ok(location, "a redirect");
        assert.equal(new URL(location).origin, new URL(gh.url).origin, location);
      }
      assert.equal(direct, `${gh.url}/`);
    });
  }
});

function decodeEntities(value: string): string {
  return value
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}
