import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Answer, Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN_EMAIL, ADMIN_PASSWORD, rawPost, seedAcme } from "./helpers.js";

let gh: TestGatehouse;
before(async () => {
  gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "1000" } });
  await seedAcme(gh);
});
after(() => gh.close());

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), values);
  }
  return map;
}

function assertSecurityHeaders(answer: Answer, label: string) {
  assert.match(answer.headers.get("content-type") ?? "", /^text\/html/, label);
  const csp = answer.headers.get("content-security-policy");
  assert.ok(csp, `${label}: has a Content-Security-Policy`);
  assert.ok(!csp.includes("unsafe-inline"), `${label}: ${csp}`);
  assert.ok(!csp.includes("unsafe-eval"), `${label}: ${csp}`);
  const policy = directives(csp);
  const scripts = policy.get("script-src") ?? policy.get("default-src");
  assert.ok(
    scripts && !scripts.includes("*") && !scripts.includes("data:"),
    `${label}: script-src ${scripts}`,
  );
  assert.deepEqual(policy.get("object-src"), ["'none'"], label);
  const framing =
    policy.get("frame-ancestors")?.join(" ") === "'none'" ||
    /^(deny|sameorigin)$/i.test(answer.headers.get("x-frame-options") ?? "");
  assert.ok(framing, `${label}: cannot be framed`);
  assert.equal(answer.headers.get("x-content-type-options"), "nosniff", label);
  assert.ok(answer.headers.get("referrer-policy"), `${label}: has a Referrer-Policy`);
}

describe("security headers on HTML pages", () => {
  test("the login page, the password step, the home page and an error page all carry them", async () => {
    const browser = new Browser();
    const login = await browser.get(`${gh.url}/login`);
    assertSecurityHeaders(login, "GET /login");
    const step = await browser.post(`${gh.url}/login`, { _csrf: csrfToken(login.body), email: ADMIN_EMAIL });
    assertSecurityHeaders(step, "POST /login");
    assertSecurityHeaders(await new Browser().get(`${gh.url}/`), "GET / signed out");
    await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    assertSecurityHeaders(await browser.get(`${gh.url}/`), "GET / signed in");
    const missing = await browser.get(`${gh.url}/no-such-page`);
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing.body), "NOT_FOUND");
    assertSecurityHeaders(missing, "404 page");
    const csrf = await new Browser().post(`${gh.url}/logout`, {});
    assertSecurityHeaders(csrf, "403 page");
  });

  test("the favicon every browser asks for is not a 404 (a console error on every page)", async () => {
    const answer = await new Browser().get(`${gh.url}/favicon.ico`);
    assert.ok(answer.status < 400, `status ${answer.status}`);
  });

  test("pages with a session or a form are not cached", async () => {
    const browser = new Browser();
    await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    for (const path of ["/login", "/"]) {
      const answer = await browser.get(`${gh.url}${path}`);
      assert.match(answer.headers.get("cache-control") ?? "", /no-store/, path);
    }
  });

  test("HTML pages carry no inline script or style the policy would block", async () => {
    const browser = new Browser();
    const pages = [await browser.get(`${gh.url}/login`)];
    await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    pages.push(await browser.get(`${gh.url}/`), await browser.get(`${gh.url}/no-such-page`));
    for (const page of pages) {
      assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/i, page.url);
      assert.doesNotMatch(page.body, /\sstyle=/i, page.url);
      assert.doesNotMatch(page.body, /<style/i, page.url);
      assert.doesNotMatch(page.body, /\son[a-z]+=/i, page.url);
    }
  });
});

describe("security headers on JSON API answers", () => {
  function assertApiHeaders(answer: Answer, label: string) {
    assert.match(answer.headers.get("content-type") ?? "", /^application\/json/, label);
    const policy = directives(answer.headers.get("content-security-policy") ?? "");
    // A JSON document loads nothing and is never framed: the strictest policy, not the pages'.
    assert.deepEqual(policy.get("default-src"), ["'none'"], label);
    assert.deepEqual(policy.get("frame-ancestors"), ["'none'"], label);
    assert.equal(policy.size, 2, `${label}: ${[...policy.keys()].join(", ")}`);
    assert.equal(answer.headers.get("x-content-type-options"), "nosniff", label);
    assert.equal(answer.headers.get("x-frame-options"), "DENY", label);
    assert.equal(answer.headers.get("cross-origin-resource-policy"), "same-origin", label);
    assert.equal(answer.headers.get("referrer-policy"), "no-referrer", label);
    assert.equal(answer.headers.get("cache-control"), "no-store", label);
  }

  test("answers, refusals, unknown endpoints and malformed URLs under /api/ all carry them", async () => {
    const browser = new Browser();
    const anonymous = await browser.get(`${gh.url}/api/v1/me`);
    assert.equal(anonymous.status, 401);
    assertApiHeaders(anonymous, "GET /api/v1/me signed out");
    await passwordSignIn(browser, gh.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const me = await browser.get(`${gh.url}/api/v1/me`);
    assert.equal(me.status, 200);
    assertApiHeaders(me, "GET /api/v1/me");
    const users = await browser.get(`${gh.url}/api/v1/users?limit=1`);
    assert.equal(users.status, 200);
    assertApiHeaders(users, "GET /api/v1/users");
    const invalid = await browser.get(`${gh.url}/api/v1/me?include=everything`);
    assert.equal(invalid.status, 400);
    assertApiHeaders(invalid, "a query the schema refuses");
    const unknown = await browser.get(`${gh.url}/api/v1/no-such-endpoint`);
    assert.equal(unknown.status, 404);
    assertApiHeaders(unknown, "an unknown endpoint");
    // The router refuses a path parameter this long before any hook runs.
    const long = await browser.get(`${gh.url}/api/v1/connections/${"x".repeat(300)}`);
    assert.ok(long.status >= 400 && long.status < 500, `status ${long.status}`);
    assertApiHeaders(long, "a path parameter too long for the router");
  });

  test("pages outside /api/ keep the pages' policy", async () => {
    const page = await new Browser().get(`${gh.url}/login?next=/api/v1/me`);
    assertSecurityHeaders(page, "GET /login with /api/ in its query");
  });
});

describe("output escaping", () => {
  const hostile = '"><script>alert(1)</script>@x.test';

  function assertEscaped(body: string) {
    assert.ok(!body.includes("<script>alert(1)</script>"), "the markup is not echoed raw");
    assert.ok(!body.includes('"><script'), "the attribute is not broken out of");
    assert.ok(body.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), "the text is echoed escaped");
  }

  test("a hostile email posted to the login form is echoed escaped", async () => {
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/login`);
    const answer = await browser.post(`${gh.url}/login`, { _csrf: csrfToken(page.body), email: hostile });
    assert.equal(answer.status, 400);
    assertEscaped(answer.body);
  });

  test("a hostile email in the login page's query is echoed escaped", async () => {
    const answer = await new Browser().get(`${gh.url}/login?email=${encodeURIComponent(hostile)}`);
    assert.equal(answer.status, 200);
    assertEscaped(answer.body);
  });

  test("a hostile email posted to the password step is echoed escaped", async () => {
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/login`);
    const answer = await browser.post(`${gh.url}/login/password`, {
      _csrf: csrfToken(page.body),
      email: hostile,
      password: "whatever it is",
    });
    assert.ok(answer.status >= 400 && answer.status < 500, `status ${answer.status}`);
    assert.ok(!answer.body.includes("<script>alert(1)</script>"));
    assert.ok(!answer.body.includes('"><script'));
  });

  test("a hostile return_to is never echoed raw", async () => {
    const answer = await new Browser().get(
      `${gh.url}/login?return_to=${encodeURIComponent('/x"><script>alert(1)</script>')}`,
    );
    assert.equal(answer.status, 200);
    assert.ok(!answer.body.includes("<script>alert(1)</script>"));
    assert.ok(!answer.body.includes('"><script'));
  });
});

describe("malformed input gets a 4xx page, never a 500", () => {
  async function loginPage(): Promise<{ browser: Browser; token: string }> {
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/login`);
    return { browser, token: csrfToken(page.body) };
  }

  function assertClientError(answer: Answer, label: string) {
    assert.ok(answer.status >= 400 && answer.status < 500, `${label}: status ${answer.status}`);
    assert.match(answer.headers.get("content-type") ?? "", /^text\/html/, label);
    assert.ok(errorCode(answer.body), `${label}: the page names an error code`);
    assert.notEqual(errorCode(answer.body), "INTERNAL", label);
  }

  for (const path of ["/login", "/login/password"]) {
    test(`repeated form fields on POST ${path}`, async () => {
      const { browser, token } = await loginPage();
      const body = new URLSearchParams([
        ["_csrf", token],
        ["email", ADMIN_EMAIL],
        ["email", "other@acme.test"],
        ["password", ADMIN_PASSWORD],
      ]).toString();
      const answer = await rawPost(browser, `${gh.url}${path}`, body, "application/x-www-form-urlencoded");
      assertClientError(answer, "repeated email");
      assert.equal(errorCode(answer.body), "REQUEST_INVALID");
    });

    test(`a repeated CSRF token on POST ${path}`, async () => {
      const { browser, token } = await loginPage();
      const body = new URLSearchParams([
        ["_csrf", token],
        ["_csrf", token],
        ["email", ADMIN_EMAIL],
        ["password", ADMIN_PASSWORD],
      ]).toString();
      assertClientError(
        await rawPost(browser, `${gh.url}${path}`, body, "application/x-www-form-urlencoded"),
        "repeated _csrf",
      );
    });

    test(`a 1 MB body on POST ${path}`, async () => {
      const { browser, token } = await loginPage();
      const body = `_csrf=${encodeURIComponent(token)}&email=${"a".repeat(1024 * 1024)}`;
      const answer = await rawPost(browser, `${gh.url}${path}`, body, "application/x-www-form-urlencoded");
      assertClientError(answer, "1 MB body");
      assert.equal(answer.status, 413);
    });

    test(`a non-form content type on POST ${path}`, async () => {
      const { browser, token } = await loginPage();
      const body = `_csrf=${encodeURIComponent(token)}&email=${encodeURIComponent(ADMIN_EMAIL)}`;
      for (const type of ["text/plain", "application/xml", "multipart/form-data; boundary=x"]) {
        assertClientError(await rawPost(browser, `${gh.url}${path}`, body, type), type);
      }
    });

    test(`a JSON body with non-string fields on POST ${path}`, async () => {
      const { browser, token } = await loginPage();
      for (const body of [
        { _csrf: token, email: ["a@acme.test", "b@acme.test"], password: "x" },
        { _csrf: token, email: { $ne: "" }, password: "x" },
        { _csrf: token, email: 42, password: ADMIN_PASSWORD },
      ]) {
        const answer = await rawPost(browser, `${gh.url}${path}`, JSON.stringify(body), "application/json");
        assertClientError(answer, JSON.stringify(body));
      }
    });

    test(`broken JSON on POST ${path}`, async () => {
      const { browser } = await loginPage();
      assertClientError(
        await rawPost(browser, `${gh.url}${path}`, '{"email":', "application/json"),
        "broken JSON",
      );
    });
  }

  test("an over-long email", async () => {
    const { browser, token } = await loginPage();
    const answer = await browser.post(`${gh.url}/login`, {
      _csrf: token,
      email: `${"a".repeat(5000)}@acme.test`,
    });
    assertClientError(answer, "long email");
  });

  test("repeated query parameters on GET /login", async () => {
    const answer = await new Browser().get(`${gh.url}/login?email=a@acme.test&email=b@acme.test`);
    assertClientError(answer, "repeated query");
  });

  test("a session cookie that is not one of ours", async () => {
    for (const value of ["x".repeat(4000), "%00%ff", "a;b", "\u00e9"]) {
      const browser = new Browser();
      browser.cookies().set("gh_session", encodeURIComponent(value));
      const home = await browser.get(`${gh.url}/`);
      assert.equal(home.status, 200, value.slice(0, 10));
    }
  });
});
