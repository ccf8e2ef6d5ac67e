import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { type Answer, Browser, csrfToken } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, ssoSignIn, startGatehouseWithIdp } from "../support/sso.js";
import {
  authorizationRequest,
  authorizeWithPassword,
  backAtApplication,
  RP,
  registerApplication,
  type TestApplication,
} from "./support.js";

const ALICE = { email: "alice@acme.test", password: "alice-password" };
const BOB = { email: "bob@acme.test", password: "bob-password" };

/** What a browser does with oidc-provider's self-submitting form page. */
function submitAutoPostForm(browser: Browser, page: Answer): Promise<Answer> {
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(action, "a self-submitting form");
  const fields = Object.fromEntries(
    [...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [
      m[1],
      m[2],
    ]),
  );
  return browser.post(new URL(action.replaceAll("&amp;", "&"), page.url).toString(), fields);
}

/**
 * An application's `prompt=login` and `max_age` (OIDC Core 3.1.2.1) for a person whose browser
 * holds both a Gatehouse session and a session at the organization's IdP: Gatehouse must have
 * the IdP sign them in afresh, never answer from either session.
 */
describe("Gatehouse as an OpenID Provider: prompt=login and max_age reach the IdP", () => {
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

  /** A browser signed in to Gatehouse (and so to the IdP) as Alice. */
  async function aliceSignedIn(): Promise<Browser> {
    const browser = new Browser();
    const home = await ssoSignIn(browser, gh, idp, ALICE.email, ALICE.password);
    assert.equal(home.status, 303, "signed in to Gatehouse");
    return browser;
  }

  /**
   * Follows Gatehouse's redirects from `answer` up to the IdP: the authorization request
   * Gatehouse sent there, and what the IdP answered to it (its sign-in form, or a redirect
   * straight back to Gatehouse when it answered from its session).
   */
  async function upstream(browser: Browser, answer: Answer): Promise<{ authorize: URL; idpAnswer: Answer }> {
    const leaving = await browser.follow(answer, atIdp);
    assert.ok(
      leaving.location && atIdp(leaving.location),
      `expected a redirect to the IdP, got ${leaving.status} ${leaving.location ?? ""} ${leaving.body.slice(0, 200)}`,
    );
    const idpAnswer = await browser.follow(leaving, atGatehouse);
    return { authorize: new URL(leaving.location), idpAnswer };
  }

  /** Submits the IdP's sign-in form and follows everything back to the application. */
  async function signInAtIdp(browser: Browser, form: Answer, person = ALICE): Promise<URL> {
    assert.equal(form.status, 200, `the IdP's sign-in form, got ${form.status} ${form.location ?? ""}`);
    const action = /<form method="post" action="([^"]+\/login)"/.exec(form.body)?.[1];
    assert.ok(action, "the IdP's sign-in form");
    const atApplication = (url: string) => url.startsWith(RP);
    let answer = await browser.follow(
      await browser.post(new URL(action, form.url).toString(), person),
      atApplication,
    );
    // oidc-provider ends its session of someone else before signing in a different person (at
    // the IdP, then at Gatehouse): a page that posts its logout form as soon as it loads.
    for (
      let i = 0;
      i < 3 && answer.status === 200 && answer.body.includes("document.forms[0].submit()");
      i++
    ) {
      answer = await browser.follow(await submitAutoPostForm(browser, answer), atApplication);
    }
    return backAtApplication(browser, answer);
  }

  async function idTokenOf(request: Awaited<ReturnType<typeof authorizationRequest>>, callback: URL) {
    const tokens = await client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const claims = tokens.claims();
    assert.ok(claims, "an ID token");
    return claims;
  }

  async function authTimeOf(request: Awaited<ReturnType<typeof authorizationRequest>>, callback: URL) {
    const authTime = (await idTokenOf(request, callback)).auth_time;
    assert.equal(typeof authTime, "number");
    return authTime as number;
  }

  test("without prompt=login or max_age, a person signed in to Gatehouse comes back at once (single sign-on)", async () => {
    const browser = await aliceSignedIn();
    const request = await authorizationRequest(app, { login_hint: ALICE.email });
    const callback = await backAtApplication(browser, await browser.get(request.url.toString()));
    assert.ok(callback.searchParams.get("code"));
  });

  test("prompt=login with login_hint: the IdP is asked to sign the person in afresh and shows its form", async () => {
    const browser = await aliceSignedIn();
    // An earlier sign-in to the application: oidc-provider has a session of its own too.
    const first = await authorizationRequest(app);
    await backAtApplication(browser, await browser.get(first.url.toString()));

    const request = await authorizationRequest(app, { prompt: "login", login_hint: ALICE.email });
    const before = Math.floor(gh.ctx.now() / 1000);
    const { authorize, idpAnswer } = await upstream(browser, await browser.get(request.url.toString()));
    assert.equal(authorize.searchParams.get("prompt"), "login");
    assert.equal(authorize.searchParams.get("login_hint"), ALICE.email);
    assert.equal(idpAnswer.status, 200, "the IdP's sign-in form, not a silent answer from its session");
    const callback = await signInAtIdp(browser, idpAnswer);
    assert.ok((await authTimeOf(request, callback)) >= before, "auth_time is the new sign-in's");
  });

  test("prompt=login without login_hint: the email typed on Gatehouse's sign-in page still reaches the IdP with prompt=login", async () => {
    const browser = await aliceSignedIn();
    const request = await authorizationRequest(app, { prompt: "login" });
    const page = await browser.follow(await browser.get(request.url.toString()));
    assert.equal(page.status, 200, "Gatehouse's email step");
    const returnTo = /name="return_to" value="([^"]+)"/.exec(page.body)?.[1]?.replaceAll("&amp;", "&") ?? "";
    assert.ok(returnTo.startsWith("/oidc/interaction/"), `return_to ${returnTo}`);
    const posted = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(page.body),
      email: ALICE.email,
      return_to: returnTo,
    });
    const { authorize, idpAnswer } = await upstream(browser, posted);
    assert.equal(authorize.searchParams.get("prompt"), "login");
    assert.equal(idpAnswer.status, 200, "the IdP's sign-in form");
    const callback = await signInAtIdp(browser, idpAnswer);
    assert.ok(callback.searchParams.get("code"));
  });

  test("prompt=login and someone else signs in at the IdP: the application gets a code for the person who signed in", async () => {
    const browser = await aliceSignedIn();
    const first = await authorizationRequest(app);
    const aliceCallback = await backAtApplication(browser, await browser.get(first.url.toString()));
    const alice = await idTokenOf(first, aliceCallback);

    const request = await authorizationRequest(app, { prompt: "login", login_hint: ALICE.email });
    const { idpAnswer } = await upstream(browser, await browser.get(request.url.toString()));
    const callback = await signInAtIdp(browser, idpAnswer, BOB);
    assert.equal(callback.searchParams.get("error"), null, `no error: ${callback}`);
    const bob = await idTokenOf(request, callback);
    assert.equal(bob.email, BOB.email, "the ID token is the person who signed in");
    assert.notEqual(bob.sub, alice.sub);
  });

  test("prompt=login with organization=<slug>: the IdP is asked to sign the person in afresh", async () => {
    const browser = await aliceSignedIn();
    const request = await authorizationRequest(app, { prompt: "login", organization: "acme" });
    const { authorize, idpAnswer } = await upstream(browser, await browser.get(request.url.toString()));
    assert.equal(authorize.searchParams.get("prompt"), "login");
    assert.equal(idpAnswer.status, 200, "the IdP's sign-in form");
    assert.ok((await signInAtIdp(browser, idpAnswer)).searchParams.get("code"));
  });

  test("prompt=login is not answered by a session signed in silently elsewhere while the request waits", async () => {
    const browser = await aliceSignedIn();
    const request = await authorizationRequest(app, { prompt: "login", login_hint: ALICE.email });
    const started = await browser.get(request.url.toString());
    const interaction = started.location ?? "";
    assert.ok(interaction.startsWith(`${gh.url}/oidc/interaction/`), "the application's interaction");
    const { idpAnswer } = await upstream(browser, started);
    assert.equal(idpAnswer.status, 200);
    // Instead of the IdP's form: Gatehouse's own /login, which the IdP's session answers silently.
    const home = await ssoSignIn(browser, gh, idp, ALICE.email, ALICE.password);
    assert.equal(home.status, 303, "a new Gatehouse session, made without a password");
    // Back to the waiting request: the new session is younger than it, yet no fresh sign-in.
    const resumed = await browser.get(interaction);
    assert.ok(!resumed.location?.startsWith(RP), "no code for the application");
    const { authorize, idpAnswer: again } = await upstream(browser, resumed);
    assert.equal(authorize.searchParams.get("prompt"), "login");
    assert.equal(again.status, 200, "the IdP's sign-in form");
  });

  test("max_age the Gatehouse session is older than: the IdP is asked to sign the person in afresh", async () => {
    const browser = await aliceSignedIn();
    gh.advance(10_000);
    const request = await authorizationRequest(app, { max_age: "5", login_hint: ALICE.email });
    const { authorize, idpAnswer } = await upstream(browser, await browser.get(request.url.toString()));
    assert.equal(authorize.searchParams.get("prompt"), "login");
    assert.equal(idpAnswer.status, 200, "the IdP's sign-in form");
    assert.ok((await signInAtIdp(browser, idpAnswer)).searchParams.get("code"));
  });

  test("max_age the Gatehouse session is young enough for: single sign-on", async () => {
    const browser = await aliceSignedIn();
    const request = await authorizationRequest(app, { max_age: "3600", login_hint: ALICE.email });
    const callback = await backAtApplication(browser, await browser.get(request.url.toString()));
    assert.ok(callback.searchParams.get("code"));
  });
});

describe("Gatehouse as an OpenID Provider: prompt=login asks for the password again", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp());
    await seedAcme(gh);
  });
  after(async () => {
    await gh.close();
    await idp.close();
  });

  test("a person signed in with a password is shown the password step, and comes back with a code after it", async () => {
    const app = await registerApplication(gh);
    const browser = new Browser();
    const first = await authorizationRequest(app);
    await authorizeWithPassword(browser, gh, first.url, ADMIN.email, ADMIN.password);
    // oidc-provider dates the request in whole seconds (its `iat`): a password typed in the same
    // second as the application asks counts as typed for it. The next second, it does not.
    await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));

    const request = await authorizationRequest(app, { prompt: "login", login_hint: ADMIN.email });
    const page = await browser.follow(await browser.get(request.url.toString()));
    assert.equal(page.status, 200);
    assert.ok(page.body.includes('action="/login/password"'), "the password step, not a code");
    const callback = await authorizeWithPassword(browser, gh, request.url, ADMIN.email, ADMIN.password);
    assert.ok(callback.searchParams.get("code"));
  });
});
