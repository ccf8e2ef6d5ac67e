/**
 * Interoperability with LemonLDAP::NG (Debian's 2.16 packages) as a relying party of Gatehouse's
 * OpenID Provider, over real HTTP: its portal delegates sign-in to Gatehouse ("OpenID Connect"
 * authentication, `userDB: Same`), with Gatehouse's discovery document and key set as its
 * Manager would store them. The person signs in to Gatehouse through the development IdP (or
 * already has a Gatehouse session); the portal redeems the code at Gatehouse's token endpoint
 * from Perl's LWP, checks the ID token (RS256 against the key set, iss, aud, exp, iat within
 * 30 s, nonce; at_hash only when present, and Gatehouse's token endpoint sends none, which OIDC
 * Core 3.1.3.6 allows), reads userinfo, and opens its own session, read back through its REST
 * endpoints.
 * Then the refusals that prove both sides check, and sign-out from the portal through
 * Gatehouse's end_session_endpoint. CI installs the packages (.ci/run); elsewhere the test
 * skips when they are missing.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { createApplication } from "../../src/provider/applications.js";
import { type Answer, Browser, csrfToken } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { PORTAL_PACKAGES, portalAvailable } from "../support/lemonldap-portal.js";
import { connectAcme, seedAcme, signInAtIdp, startGatehouseWithIdp } from "../support/sso.js";
import { type LemonldapRelyingParty, startLemonldapRelyingParty } from "./lemonldap-rp/portal.js";
import { confirmLogout } from "./support.js";

const available = portalAvailable();
// CI installs the portal's packages, so there a missing one fails instead of skipping.
const skip = !available && !process.env.CI ? "LemonLDAP::NG's portal is not installed" : false;

const ALICE = { email: "alice@acme.test", password: "alice-password", name: "Alice Anderson" };
const BOB = { email: "bob@acme.test", password: "bob-password", name: "Bob Baker" };

let gh: TestGatehouse;
let idp: DevIdp;
let portal: LemonldapRelyingParty;

before(async () => {
  if (skip) return;
  assert.ok(
    available,
    `LemonLDAP::NG's portal is missing: install ${PORTAL_PACKAGES.join(" ")} (.ci/run does)`,
  );
  ({ gh, idp } = await startGatehouseWithIdp());
  const acme = await seedAcme(gh);
  await connectAcme(gh, idp, acme.organizationId);
  portal = await startLemonldapRelyingParty(gh.url, async ({ url, callbackUri, postLogoutRedirectUri }) => {
    const register = async (
      name: string,
      redirectUri: string,
      tokenEndpointAuthMethod: "client_secret_basic" | "client_secret_post",
    ) => {
      const { application, clientSecret } = await createApplication(gh.ctx, {
        name,
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [postLogoutRedirectUri],
        tokenEndpointAuthMethod,
      });
      assert.ok(clientSecret);
      return { clientId: application.clientId, clientSecret, tokenEndpointAuthMethod };
    };
    // LemonLDAP::NG's default token endpoint authentication is client_secret_post.
    const intranet = await register("Intranet", callbackUri, "client_secret_post");
    const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
    const published = (await (await fetch(`${gh.url}/oidc/jwks`)).json()) as {
      keys: Record<string, unknown>[];
    };
    return {
      gatehouse: intranet,
      "gatehouse-basic": await register("Intranet (basic)", callbackUri, "client_secret_basic"),
      "gatehouse-wrong-secret": { ...intranet, clientSecret: "not-the-secret" },
      "gatehouse-other-redirect": await register(
        "Intranet (elsewhere)",
        `${url}elsewhere`,
        "client_secret_post",
      ),
      // Gatehouse's own key ids, another key's modulus: only the signature check can refuse it.
      "gatehouse-foreign-jwks": {
        ...intranet,
        jwks: { keys: published.keys.map((key) => ({ ...key, n: otherKey.n, e: otherKey.e })) },
      },
    };
  });
});

after(async () => {
  await portal?.close();
  await gh?.close();
  await idp?.close();
});

const atPortal = (url: string) => url.startsWith(portal.url);

/**
 * Opens the portal with one of its providers chosen and follows it to Gatehouse; signs in to
 * Gatehouse through the development IdP when Gatehouse asks (email first); stops at the
 * redirect back to the portal, which is returned unfollowed.
 */
async function toPortalCallback(
  browser: Browser,
  provider: string,
  person?: { email: string; password: string },
): Promise<Answer> {
  const start = await browser.get(`${portal.url}?idp=${encodeURIComponent(provider)}`);
  redirectTo(start, `${gh.url}/oidc/auth?`);
  let page = await browser.follow(start, atPortal);
  if (page.location && atPortal(page.location)) return page;
  assert.ok(person, `Gatehouse asked for a sign-in: ${page.status} ${page.url}`);
  assert.equal(page.status, 200, `Gatehouse's sign-in page expected, got ${page.status} ${page.url}`);
  const returnTo = /name="return_to" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(returnTo, "the sign-in page carries return_to");
  const toIdp = await browser.post(`${gh.url}/login`, {
    _csrf: csrfToken(page.body),
    email: person.email,
    return_to: returnTo.replaceAll("&#x2F;", "/").replaceAll("&amp;", "&"),
  });
  const back = await signInAtIdp(browser, toIdp, idp, person.email, person.password, gh.url);
  page = await browser.follow(back, atPortal);
  assert.ok(
    page.location && atPortal(page.location),
    `expected a redirect back to the portal, got ${page.status} ${page.location ?? ""} ${page.body.slice(0, 300)}`,
  );
  return page;
}

/**
 * The portal's JSON answers. Without a session a request goes through its sign-in, which answers
 * `{"result":1,"error":<code>}` (the provider choice) instead of the route's own answer.
 */
async function portalJson(browser: Browser, path: string): Promise<Record<string, unknown> | undefined> {
  const answer = await browser.get(`${portal.url}${path}`, { accept: "application/json" });
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  return answer.status === 200 && !("error" in body) ? body : undefined;
}

/** What the portal's session holds, through its REST endpoint for the signed-in person. */
function portalSession(browser: Browser) {
  return portalJson(browser, "session/my/global/[mail,cn,_user,_oidc_OP,_oidc_id_token]");
}

/** The session's whatToTrace attribute. */
async function whoami(browser: Browser): Promise<unknown> {
  return (await portalJson(browser, "mysession/?whoami"))?.result;
}

/** The portal's message on a page: its number (Lemonldap::NG::Portal::Main::Constants) and tone. */
function portalMessage(html: string): string | undefined {
  const match = /<div class="message message-(\w+) alert"[^>]*><span trmsg="(\d+)">/.exec(html);
  return match ? `${match[1]} ${match[2]}` : undefined;
}
const PE_OIDC_AUTH_ERROR = "negative 106";
const PE_LOGOUT_OK = "positive 47";

function hasPortalCookie(browser: Browser): boolean {
  return browser.cookies("127.0.0.1").has("lemonldap");
}

async function gatehouseUser(browser: Browser): Promise<{ id: string; email: string } | undefined> {
  const answer = await browser.get(`${gh.url}/api/v1/me`);
  return answer.status === 200
    ? (JSON.parse(answer.body) as { user: { id: string; email: string } }).user
    : undefined;
}

function redirectTo(answer: Answer, prefix: string): string {
  const { location } = answer;
  if (!location?.startsWith(prefix)) {
    assert.fail(
      `expected a redirect to ${prefix}..., got ${answer.status} ${location ?? ""}\n${portal.output()}`,
    );
  }
  return location;
}

/** Gatehouse's request log lines for one path, as { status }. */
function requestsTo(path: string): { status: number }[] {
  return gh.logs
    .map((line) => JSON.parse(line) as { msg?: string; path?: string; status?: number })
    .filter((entry) => entry.msg === "request" && entry.path === path)
    .map((entry) => ({ status: entry.status ?? 0 }));
}

describe("LemonLDAP::NG as a relying party of Gatehouse", { skip }, () => {
  let aliceBrowser: Browser;

  test("alice signs in at the portal through Gatehouse: the portal's session holds her email, name and Gatehouse id", async () => {
    aliceBrowser = new Browser();
    const callback = await toPortalCallback(aliceBrowser, "gatehouse", ALICE);
    const url = new URL(callback.location as string);
    assert.equal(`${url.origin}${url.pathname}`, portal.url);
    assert.equal(url.searchParams.get("openidconnectcallback"), "1");
    assert.equal(url.searchParams.get("iss"), gh.url, "RFC 9207 iss, which the portal ignores");
    const tokensBefore = requestsTo("/oidc/token").length;
    const menu = await aliceBrowser.get(callback.location as string);
    assert.equal(menu.status, 200, `the portal's menu expected\n${portal.output()}`);
    assert.ok(hasPortalCookie(aliceBrowser), "the portal set its session cookie");
    const alice = await gatehouseUser(aliceBrowser);
    assert.equal(alice?.email, ALICE.email);
    // The menu names the portal's `_user`, which the OpenID Connect module takes from `sub`.
    assert.match(menu.body, new RegExp(`Connected as</span>\\s*${alice?.id}`));
    assert.deepEqual(requestsTo("/oidc/token").slice(tokensBefore), [{ status: 200 }]);
    assert.equal(await whoami(aliceBrowser), ALICE.email, "whatToTrace is mail");
    const session = await portalSession(aliceBrowser);
    assert.equal(session?.mail, ALICE.email);
    assert.equal(session?.cn, ALICE.name, "the name came through userinfo and the exported variables");
    assert.equal(session?._user, alice?.id);
    assert.equal(session?._oidc_OP, "gatehouse");
    // The ID token the portal accepted: the claims its checks read were all there to check.
    const idToken = String(session?._oidc_id_token);
    assert.equal(decodeProtectedHeader(idToken).alg, "RS256");
    const claims = decodeJwt(idToken);
    assert.equal(claims.iss, gh.url);
    assert.equal(claims.sub, alice?.id);
    assert.equal(typeof claims.nonce, "string");
  });

  test("bob is bob, through an application that authenticates with client_secret_basic", async () => {
    const browser = new Browser();
    const callback = await toPortalCallback(browser, "gatehouse-basic", BOB);
    assert.equal((await browser.get(callback.location as string)).status, 200);
    const bob = await gatehouseUser(browser);
    assert.equal(bob?.email, BOB.email);
    const session = await portalSession(browser);
    assert.deepEqual(
      { mail: session?.mail, cn: session?.cn, _user: session?._user, op: session?._oidc_OP },
      { mail: BOB.email, cn: BOB.name, _user: bob?.id, op: "gatehouse-basic" },
    );
    assert.equal(await whoami(aliceBrowser), ALICE.email, "alice's portal session is still hers");
  });

  test("a wrong client secret: Gatehouse's token endpoint answers 401 and the portal opens no session", async () => {
    // A fresh portal session, the Gatehouse session kept: no form, straight back with a code.
    const browser = new Browser();
    browser.jar.set("localhost", new Map(aliceBrowser.cookies("localhost")));
    const callback = await toPortalCallback(browser, "gatehouse-wrong-secret");
    assert.ok(new URL(callback.location as string).searchParams.get("code"), "Gatehouse issued a code");
    const tokensBefore = requestsTo("/oidc/token").length;
    const page = await browser.get(callback.location as string);
    assert.deepEqual(requestsTo("/oidc/token").slice(tokensBefore), [{ status: 401 }]);
    assert.match(portal.output(), /Bad token response: Unauthorized/);
    assert.equal(portalMessage(page.body), PE_OIDC_AUTH_ERROR);
    assert.equal(hasPortalCookie(browser), false, "no portal session");
    assert.equal(await whoami(browser), undefined);
    assert.equal(await portalSession(browser), undefined);
  });

  test("a redirect URI the application did not register is refused on Gatehouse's page, never redirected to", async () => {
    const browser = new Browser();
    const start = await browser.get(`${portal.url}?idp=gatehouse-other-redirect`);
    const refused = await browser.get(redirectTo(start, `${gh.url}/oidc/auth?`));
    assert.equal(refused.status, 400);
    assert.equal(refused.location, undefined);
    assert.match(refused.body, /data-error-code="invalid_redirect_uri"/);
  });

  test("an ID token that does not verify against the key set the portal holds is refused by the portal", async () => {
    const browser = new Browser();
    browser.jar.set("localhost", new Map(aliceBrowser.cookies("localhost")));
    const callback = await toPortalCallback(browser, "gatehouse-foreign-jwks");
    const tokensBefore = requestsTo("/oidc/token").length;
    const page = await browser.get(callback.location as string);
    assert.deepEqual(requestsTo("/oidc/token").slice(tokensBefore), [{ status: 200 }]);
    assert.equal(portalMessage(page.body), PE_OIDC_AUTH_ERROR);
    assert.match(portal.output(), /JWT signature verification failed/);
    assert.equal(hasPortalCookie(browser), false, "no portal session");
    assert.equal(await whoami(browser), undefined);
  });

  test("signing out at the portal goes through Gatehouse's end_session_endpoint, ending both sessions", async () => {
    const out = await aliceBrowser.get(`${portal.url}?logout=1`);
    const endSession = redirectTo(out, `${gh.url}/oidc/session/end?`);
    const params = new URL(endSession).searchParams;
    assert.equal(params.get("post_logout_redirect_uri"), portal.postLogoutRedirectUri);
    assert.ok(params.get("id_token_hint"), "the portal stored the ID token (StoreIDToken) to send it back");
    assert.equal(await whoami(aliceBrowser), undefined, "the portal's session ended first");
    const confirm = await aliceBrowser.get(endSession);
    const continued = await confirmLogout(aliceBrowser, confirm);
    const toIdp = await aliceBrowser.get(continued.location as string);
    assert.equal(await gatehouseUser(aliceBrowser), undefined, "the Gatehouse session ended");
    // alice's Gatehouse session came from the development IdP: its logout is next, then back.
    const idpLogout = await aliceBrowser.follow(toIdp, (url) => url.startsWith(gh.url));
    const home = await confirmLogout(aliceBrowser, idpLogout);
    const landed = await aliceBrowser.follow(home, atPortal);
    assert.equal(landed.location, portal.postLogoutRedirectUri);
    assert.equal(portalMessage((await aliceBrowser.get(portal.postLogoutRedirectUri)).body), PE_LOGOUT_OK);
    assert.equal(await whoami(aliceBrowser), undefined);
  });
});
