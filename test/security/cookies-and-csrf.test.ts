import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { type Answer, Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import { freePort, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, startGatehouseWithIdp } from "../support/sso.js";

// Issue 10, item 10: on an https base URL `gh_csrf` and `gh_login` were set without the
// `__Host-` prefix, and the CSRF secret was neither bound to the session nor rotated at sign-in.
let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
const setCookies: string[] = [];

before(async () => {
  const port = await freePort();
  ({ gh, idp } = await startGatehouseWithIdp({
    port,
    env: { GATEHOUSE_BASE_URL: `https://localhost:${port}` },
  }));
  ({ organizationId } = await seedAcme(gh));
});
after(async () => {
  await gh.close();
  await idp.close();
});

function record(answer: Answer): Answer {
  setCookies.push(...answer.headers.getSetCookie());
  return answer;
}

function cookieName(line: string): string {
  return line.slice(0, line.indexOf("="));
}

test("a CSRF token from before sign-in is refused once signed in: the secret rotates and tokens name the session", async () => {
  const browser = new Browser();
  const login = record(await browser.get(`${gh.url}/login`));
  const before = csrfToken(login.body);
  const secretBefore = browser.cookies().get("__Host-gh_csrf");
  assert.ok(secretBefore, "the login page sets __Host-gh_csrf");
  record(await passwordSignIn(browser, gh.url, ADMIN.email, ADMIN.password));
  const secretAfter = browser.cookies().get("__Host-gh_csrf");
  assert.ok(secretAfter);
  assert.notEqual(secretAfter, secretBefore, "sign-in replaces the CSRF secret");

  const stale = await browser.post(`${gh.url}/logout`, { _csrf: before });
  assert.equal(stale.status, 403);
  assert.equal(errorCode(stale.body), "CSRF_INVALID");

  // The secret alone is not enough: a token minted for no session (or another) is refused
  // even when it was made from the current secret.
  const signedOut = new Browser();
  signedOut.cookies().set("__Host-gh_csrf", secretAfter);
  const unbound = csrfToken((await signedOut.get(`${gh.url}/login`)).body);
  const refused = await browser.post(`${gh.url}/logout`, { _csrf: unbound });
  assert.equal(refused.status, 403, "a token not bound to this session");

  const home = record(await browser.get(`${gh.url}/`));
  const out = record(await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) }));
  assert.equal(out.status, 303);
  assert.notEqual(browser.cookies().get("__Host-gh_csrf"), secretAfter, "sign-out replaces it again");
});

test("on an https base URL every cookie Gatehouse sets carries __Host- (or __Secure- where a path is set)", async () => {
  await connectAcme(gh, idp, organizationId);
  const browser = new Browser();
  const login = record(await browser.get(`${gh.url}/login`));
  const start = record(
    await browser.post(`${gh.url}/login`, { _csrf: csrfToken(login.body), email: "carol@acme.test" }),
  );
  assert.ok(start.location?.startsWith(idp.issuer), "the work email starts single sign-on");
  const names = new Set(setCookies.map(cookieName));
  for (const expected of ["__Host-gh_csrf", "__Host-gh_login", "__Host-gh_session", "__Host-gh_device"]) {
    assert.ok(names.has(expected), `${expected} was set (${[...names].join(", ")})`);
  }
  for (const line of setCookies) {
    const name = cookieName(line);
    const attributes = line.split(";").map((a) => a.trim().toLowerCase());
    assert.match(name, /^__(Host|Secure)-/, line);
    assert.ok(attributes.includes("secure"), line);
    if (name.startsWith("__Host-")) {
      assert.ok(attributes.includes("path=/"), line);
      assert.ok(!attributes.some((a) => a.startsWith("domain=")), line);
    }
  }
});
