import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { type Answer, Browser, csrfToken, errorCode } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, signInAtIdp, startGatehouseWithIdp } from "../support/sso.js";
import {
  type Authorization,
  authorizationRequest,
  backAtApplication,
  REDIRECT_URI,
  registerApplication,
  type TestApplication,
} from "./support.js";

const ALICE = { email: "alice@acme.test", password: "alice-password" };
const CAROL = { email: "carol@gmail.test", password: "carol-password" };

function decode(value: string): string {
  return value.replaceAll("&amp;", "&").replaceAll("&#x2F;", "/").replaceAll("&#47;", "/");
}

/**
 * A sign-in that fails inside an application's request (`organization=`, `login_hint`) keeps
 * the person inside it: the refusal page's buttons start again within the request, and "Back to
 * <application>" ends it with `access_denied` (OIDC Core 3.1.2.6) instead of stranding them.
 */
describe("Gatehouse as an OpenID Provider: a failed SSO sign-in keeps the application's request", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;
  let app: TestApplication;

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp());
    const { organizationId } = await seedAcme(gh);
    await connectAcme(gh, idp, organizationId);
    app = await registerApplication(gh);
  });
  after(async () => {
    await gh.close();
    await idp.close();
  });

  const atIdp = (url: string) => url.startsWith(idp.issuer);
  const atGatehouse = (url: string) => url.startsWith(gh.url);

  /** The application's request, signed in at the IdP as `who`: Gatehouse's answer to the callback. */
  async function signInWithin(browser: Browser, request: Authorization, who: typeof ALICE): Promise<Answer> {
    const leaving = await browser.follow(await browser.get(request.url.toString()), atIdp);
    const back = await signInAtIdp(browser, leaving, idp, who.email, who.password, gh.url);
    return browser.get(back.location as string);
  }

  /** Submits the IdP's sign-in form as Alice and follows everything back to the application. */
  async function aliceAtIdp(browser: Browser, form: Answer): Promise<URL> {
    assert.equal(form.status, 200, `the IdP's sign-in form, got ${form.status} ${form.location ?? ""}`);
    const action = /<form method="post" action="([^"]+\/login)"/.exec(form.body)?.[1];
    assert.ok(action, "the IdP's sign-in form");
    let page = await browser.follow(
      await browser.post(new URL(action, form.url).toString(), ALICE),
      atGatehouse,
    );
    // oidc-provider ends Carol's session before Alice's begins, with a form a browser submits.
    const endSession = /<form method="post" action="([^"]+\/session\/end\/confirm)">([\s\S]*?)<\/form>/.exec(
      page.body,
    );
    if (endSession) {
      const fields = Object.fromEntries(
        [...(endSession[2] ?? "").matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      page = await browser.post(endSession[1] ?? "", fields);
    }
    return backAtApplication(browser, page);
  }

  async function emailOf(request: Authorization, callback: URL): Promise<unknown> {
    const tokens = await client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    return tokens.claims()?.email;
  }

  function primaryButton(page: Answer): { href: string; label: string } {
    const match = /<a class="btn btn-primary" href="([^"]+)">([^<]+)<\/a>/.exec(page.body);
    assert.ok(match, "the page's main button");
    return { href: decode(match[1] ?? ""), label: match[2] ?? "" };
  }

  test("organization=<slug>, an account the connection refuses: Sign in with another account ends at the application with a code", async () => {
    const browser = new Browser();
    const request = await authorizationRequest(app, { organization: "acme" });
    const refused = await signInWithin(browser, request, CAROL);
    assert.equal(errorCode(refused.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    const next = primaryButton(refused);
    assert.equal(next.label, "Sign in with another account");
    const href = new URL(next.href, gh.url);
    assert.equal(href.pathname, "/sso/start");
    assert.equal(href.searchParams.get("organization"), "acme");
    assert.equal(href.searchParams.get("connection"), "Acme Okta");
    assert.equal(href.searchParams.get("reauthenticate"), "1");
    assert.match(href.searchParams.get("return_to") ?? "", /^\/oidc\/interaction\/[\w-]+$/);

    // Carol's session at the IdP would answer a plain retry: the IdP is asked for a new sign-in.
    const leaving = await browser.follow(await browser.get(href.toString()), atIdp);
    assert.equal(new URL(leaving.location ?? "").searchParams.get("prompt"), "login");
    const callback = await aliceAtIdp(browser, await browser.follow(leaving, atGatehouse));
    assert.ok(callback.toString().startsWith(REDIRECT_URI));
    assert.equal(callback.searchParams.get("state"), request.state);
    assert.equal(await emailOf(request, callback), ALICE.email);
  });

  test("login_hint, an account the connection refuses: Sign in with another account keeps the request too", async () => {
    const browser = new Browser();
    const request = await authorizationRequest(app, { login_hint: ALICE.email });
    const refused = await signInWithin(browser, request, CAROL);
    assert.equal(errorCode(refused.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    const href = new URL(primaryButton(refused).href, gh.url);
    assert.equal(href.searchParams.get("email"), ALICE.email);
    assert.match(href.searchParams.get("return_to") ?? "", /^\/oidc\/interaction\//);
    const leaving = await browser.follow(await browser.get(href.toString()), atIdp);
    const callback = await aliceAtIdp(browser, await browser.follow(leaving, atGatehouse));
    assert.equal(await emailOf(request, callback), ALICE.email);
  });

  test("Back to the application ends its request with access_denied", async () => {
    const browser = new Browser();
    const request = await authorizationRequest(app, { organization: "acme" });
    const refused = await signInWithin(browser, request, CAROL);
    const form =
      /<form method="post" action="([^"]+)" class="actions">[\s\S]*?data-testid="back-to-application">([^<]+)</.exec(
        refused.body,
      );
    assert.ok(form, "a way back to the application");
    assert.equal(form[2], "Back to Acme SaaS");
    const action = new URL(decode(form[1] ?? ""), gh.url).toString();

    const forged = await browser.post(action, { _csrf: "forged" });
    assert.equal(forged.status, 403, "the form is CSRF-protected");

    const callback = await backAtApplication(
      browser,
      await browser.post(action, { _csrf: csrfToken(refused.body) }),
    );
    assert.ok(callback.toString().startsWith(REDIRECT_URI));
    assert.equal(callback.searchParams.get("error"), "access_denied");
    assert.equal(callback.searchParams.get("state"), request.state);
    assert.equal(callback.searchParams.get("iss"), gh.url);
    assert.equal(callback.searchParams.get("code"), null);

    const again = await browser.post(action, { _csrf: csrfToken(refused.body) });
    assert.ok(
      again.status >= 400 && again.status < 500,
      `a finished request cannot be ended twice: ${again.status}`,
    );
  });

  test("a plain SSO sign-in's refusal is unchanged: no way back to an application, buttons without return_to", async () => {
    const browser = new Browser();
    const start = await browser.get(`${gh.url}/sso/start?organization=acme`);
    const back = await signInAtIdp(browser, start, idp, CAROL.email, CAROL.password, gh.url);
    const refused = await browser.get(back.location as string);
    assert.equal(errorCode(refused.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    assert.equal(
      primaryButton(refused).href,
      "/sso/start?organization=acme&connection=Acme+Okta&reauthenticate=1",
    );
    assert.ok(!refused.body.includes("back-to-application"));
  });

  test("a refusal to try again (the sign-in expired at the IdP): Start signing in again returns to the application", async () => {
    const browser = new Browser();
    const request = await authorizationRequest(app, { organization: "acme" });
    const leaving = await browser.follow(await browser.get(request.url.toString()), atIdp);
    // The person leaves the IdP's form open for more than the 10 minutes a sign-in may take.
    const form = await browser.follow(leaving, atGatehouse);
    gh.advance(11 * 60 * 1000);
    const action = /<form method="post" action="([^"]+\/login)"/.exec(form.body)?.[1] ?? "";
    const back = await browser.follow(
      await browser.post(new URL(action, form.url).toString(), ALICE),
      atGatehouse,
    );
    const refused = await browser.get(back.location as string);
    assert.equal(errorCode(refused.body), "SSO_STATE_EXPIRED");
    const next = primaryButton(refused);
    assert.equal(next.label, "Start signing in again");
    const href = new URL(next.href, gh.url);
    assert.equal(href.pathname, "/login");
    const returnTo = href.searchParams.get("return_to") ?? "";
    assert.match(returnTo, /^\/oidc\/interaction\//);

    // The email step, then the IdP (which now has Alice's session), then the application.
    const login = await browser.get(href.toString());
    const posted = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(login.body),
      email: ALICE.email,
      return_to: returnTo,
    });
    const callback = await backAtApplication(browser, posted);
    assert.equal(await emailOf(request, callback), ALICE.email);
  });
});
