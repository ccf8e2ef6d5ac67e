import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { decodeJwt } from "jose";
import * as client from "openid-client";
import { createApiKey } from "../../src/api/keys.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { deliverDueLogouts } from "../../src/provider/backchannel.js";
import { openIdProviderOf } from "../../src/provider/routes.js";
import { Browser, csrfToken } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, signInAtIdp, startGatehouseWithIdp } from "../support/sso.js";
import {
  authorizationRequest,
  authorizeWithPassword,
  backAtApplication,
  confirmLogout,
  type LogoutReceiver,
  RP,
  registerApplication,
  startLogoutReceiver,
  type TestApplication,
} from "./support.js";

const OFFLINE = { scope: "openid email offline_access", prompt: "consent" };

/**
 * What an application holds from a sign-in through Gatehouse ends when Gatehouse ends the
 * session: at once for codes and access tokens; refresh tokens (offline_access) too when an
 * administrator or a security event ended it, and not when the person signed out themselves.
 * Each ended sign-in sends the application one logout token, whatever ended it.
 */
describe("Gatehouse as an OpenID Provider: ending a Gatehouse session ends the applications' tokens", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;
  let receiver: LogoutReceiver;
  let acme: { organizationId: string; adminUserId: string };
  let apiKey: string;

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp());
    acme = await seedAcme(gh);
    apiKey = (await createApiKey(gh.ctx, "acme", "ci")).key;
    receiver = await startLogoutReceiver();
    // Delivered by hand below, so no background attempt races the assertions.
    openIdProviderOf(gh.ctx)?.stopDelivery();
  });
  after(async () => {
    await receiver.close();
    await gh.close();
    await idp.close();
  });
  beforeEach(async () => {
    await deliver();
    receiver.tokens.length = 0;
  });

  async function deliver() {
    return deliverDueLogouts(gh.ctx, openIdProviderOf(gh.ctx) ?? assert.fail("provider running"));
  }

  async function redeem(
    app: TestApplication,
    request: Awaited<ReturnType<typeof authorizationRequest>>,
    callback: URL,
  ) {
    return client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
  }

  async function passwordSignIn(browser: Browser, app: TestApplication, extra: Record<string, string> = {}) {
    const request = await authorizationRequest(app, extra);
    const callback = await authorizeWithPassword(browser, gh, request.url, ADMIN.email, ADMIN.password);
    return redeem(app, request, callback);
  }

  /** Alice through the organization's IdP. */
  async function ssoSignIn(browser: Browser, app: TestApplication, extra: Record<string, string> = {}) {
    const request = await authorizationRequest(app, { login_hint: "alice@acme.test", ...extra });
    const start = await browser.follow(await browser.get(request.url.toString()), (url) =>
      url.startsWith(idp.issuer),
    );
    const back = await signInAtIdp(browser, start, idp, "alice@acme.test", "alice-password", gh.url);
    return redeem(app, request, await backAtApplication(browser, back));
  }

  async function userinfoStatus(accessToken: string): Promise<number> {
    const answer = await fetch(`${gh.url}/oidc/userinfo`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    await answer.body?.cancel();
    return answer.status;
  }

  async function refused(app: TestApplication, refreshToken: string) {
    await assert.rejects(
      client.refreshTokenGrant(app.config, refreshToken),
      (error: { error?: string }) => error.error === "invalid_grant",
      "the refresh token is refused",
    );
  }

  async function api(path: string, body: unknown = {}) {
    const answer = await fetch(`${gh.url}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(answer.status, 200, await answer.clone().text());
    return (await answer.json()) as { sessionsEnded: number };
  }

  /** The logout tokens delivered since the test began; none is left queued for a retry. */
  async function deliveredLogouts(): Promise<Record<string, unknown>[]> {
    await deliver();
    const queued = await gh.ctx.store.db.selectFrom("backchannel_logouts").select("id").execute();
    assert.equal(queued.length, 0, "no logout token is left to retry");
    return receiver.tokens.map((token) => decodeJwt(token));
  }

  test("sign out everywhere (API) ends access and refresh tokens, offline_access too, and sends one logout token", async () => {
    const app = await registerApplication(gh, { backchannelLogoutUri: receiver.uri });
    const tokens = await passwordSignIn(new Browser(), app, OFFLINE);
    assert.ok(tokens.refresh_token);
    assert.equal(await userinfoStatus(tokens.access_token), 200);

    assert.equal((await api(`/users/${acme.adminUserId}/sessions/revoke`)).sessionsEnded, 1);
    assert.equal(await userinfoStatus(tokens.access_token), 401, "the access token ended with the session");
    await refused(app, tokens.refresh_token);

    const logouts = await deliveredLogouts();
    assert.equal(logouts.length, 1, "exactly one logout token");
    assert.equal(logouts[0]?.sid, tokens.claims()?.sid);
  });

  test("the person's own sign-out ends the session's access tokens; an offline_access grant stays until an administrator ends it", async () => {
    const online = await registerApplication(gh, { backchannelLogoutUri: receiver.uri });
    const offline = await registerApplication(gh, { backchannelLogoutUri: receiver.uri });
    const browser = new Browser();
    const onlineTokens = await passwordSignIn(browser, online);
    const offlineTokens = await passwordSignIn(browser, offline, OFFLINE);
    assert.ok(offlineTokens.refresh_token);

    const home = await browser.get(`${gh.url}/`);
    assert.equal((await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) })).status, 303);
    assert.equal(await userinfoStatus(onlineTokens.access_token), 401, "bound to the session: ended");
    // OpenID Connect's offline_access: the person let the application act while they are away.
    const refreshed = await client.refreshTokenGrant(offline.config, offlineTokens.refresh_token);
    assert.ok(refreshed.refresh_token);
    assert.equal(await userinfoStatus(refreshed.access_token), 200);
    assert.equal((await deliveredLogouts()).length, 2, "one logout token to each application");

    // No live session is left, yet the administrator's sign-out reaches the grant it gave.
    receiver.tokens.length = 0;
    assert.equal((await api(`/users/${acme.adminUserId}/sessions/revoke`)).sessionsEnded, 0);
    await refused(offline, refreshed.refresh_token);
    assert.equal(await userinfoStatus(refreshed.access_token), 401);
    assert.equal((await deliveredLogouts()).length, 0, "the applications were told already");
  });

  test("an application's RP-initiated logout sends it exactly one logout token and ends its tokens", async () => {
    const app = await registerApplication(gh, { backchannelLogoutUri: receiver.uri });
    const browser = new Browser();
    const tokens = await passwordSignIn(browser, app);
    const endSession = client.buildEndSessionUrl(app.config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: `${RP}/signed-out`,
    });
    const confirmed = await confirmLogout(browser, await browser.get(endSession.toString()));
    const landed = await browser.follow(confirmed, (url) => url.startsWith(RP));
    assert.equal(landed.location, `${RP}/signed-out`);
    assert.equal((await browser.get(`${gh.url}/api/v1/me`)).status, 401, "the Gatehouse session ended");
    assert.equal(await userinfoStatus(tokens.access_token), 401);

    const logouts = await deliveredLogouts();
    assert.equal(logouts.length, 1, "exactly one logout token");
    assert.equal(logouts[0]?.sid, tokens.claims()?.sid);
  });
  test("disabling the connection ends the tokens of the sessions it issued, offline_access too", async () => {
    // Last: from here on acme.test signs in through its IdP only.
    const connectionId = (await connectAcme(gh, idp, acme.organizationId)).id;
    const app = await registerApplication(gh, { backchannelLogoutUri: receiver.uri });
    const tokens = await ssoSignIn(new Browser(), app, OFFLINE);
    assert.equal(tokens.claims()?.idp, connectionId);
    assert.ok(tokens.refresh_token);
    assert.equal(await userinfoStatus(tokens.access_token), 200);

    assert.equal((await api(`/connections/${connectionId}/disable`)).sessionsEnded, 1);
    assert.equal(await userinfoStatus(tokens.access_token), 401);
    await refused(app, tokens.refresh_token);
    assert.equal((await deliveredLogouts()).length, 1, "exactly one logout token");
  });
});
