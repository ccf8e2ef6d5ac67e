import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { deliverDueLogouts } from "../../src/provider/backchannel.js";
import { openIdProviderOf } from "../../src/provider/routes.js";
import { revokeSessionsForOrganization } from "../../src/store/sessions.js";
import { Browser } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, signInAtIdp, startGatehouseWithIdp } from "../support/sso.js";
import {
  authorizationRequest,
  backAtApplication,
  confirmLogout,
  type LogoutReceiver,
  RP,
  registerApplication,
  startLogoutReceiver,
  type TestApplication,
} from "./support.js";

const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";

describe("Gatehouse as an OpenID Provider: SSO sign-in, RP-initiated and back-channel logout", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;
  let receiver: LogoutReceiver;
  let acme: { organizationId: string; adminUserId: string };
  let connectionId: string;

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp());
    acme = await seedAcme(gh);
    connectionId = (await connectAcme(gh, idp, acme.organizationId)).id;
    receiver = await startLogoutReceiver();
    // Delivered by hand below, so no background attempt races the assertions.
    openIdProviderOf(gh.ctx)?.stopDelivery();
  });
  after(async () => {
    await receiver.close();
    await gh.close();
    await idp.close();
  });

  /** login_hint goes straight to the organization's IdP; back at the application with a code. */
  async function ssoSignIn(browser: Browser, app: TestApplication) {
    const request = await authorizationRequest(app, { login_hint: "alice@acme.test" });
    const start = await browser.get(request.url.toString());
    const toIdp = await browser.follow(start, (url) => url.startsWith(idp.issuer));
    const back = await signInAtIdp(browser, toIdp, idp, "alice@acme.test", "alice-password", gh.url);
    const callback = await backAtApplication(browser, back);
    return client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
  }

  async function verifyLogoutToken(app: TestApplication, token: string) {
    const jwks = createRemoteJWKSet(new URL(`${gh.url}/oidc/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: gh.url,
      audience: app.clientId,
      typ: "logout+jwt",
    });
    assert.equal(protectedHeader.alg, "RS256");
    assert.deepEqual(payload.events, { [BACKCHANNEL_EVENT]: {} });
    assert.equal(payload.nonce, undefined, "a logout token never carries a nonce");
    return payload;
  }

  test("SSO claims; RP-initiated logout ends the Gatehouse session, goes through the IdP's logout and back to the application; the application gets a logout token", async () => {
    const app = await registerApplication(gh, { backchannelLogoutUri: receiver.uri });
    const browser = new Browser();
    const tokens = await ssoSignIn(browser, app);
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.email, "alice@acme.test");
    assert.equal(claims.auth_method, "sso");
    assert.equal(claims.idp, connectionId);
    assert.deepEqual(claims.amr, ["fed"]);
    assert.equal(claims.email_verified, true);
    assert.equal(claims.given_name, "Alice");
    assert.equal(claims.family_name, "Anderson");
    assert.equal(typeof claims.sid, "string");

    const endSession = client.buildEndSessionUrl(app.config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: `${RP}/signed-out`,
      state: "app-state",
    });
    const confirm = await browser.get(endSession.toString());
    const afterConfirm = await confirmLogout(browser, confirm);
    assert.equal(afterConfirm.location, `${gh.url}/oidc/logout/continue`);
    const toIdp = await browser.get(afterConfirm.location);
    assert.ok(toIdp.location?.startsWith(idp.issuer), `to the IdP's logout, got ${toIdp.location}`);
    assert.equal((await browser.get(`${gh.url}/api/v1/me`)).status, 401, "the Gatehouse session ended");
    const idpLogout = await browser.follow(toIdp, (url) => url.startsWith(gh.url));
    const home = await confirmLogout(browser, idpLogout);
    const landed = await browser.follow(home, (url) => url.startsWith(RP));
    assert.equal(landed.location, `${RP}/signed-out?state=app-state`);

    await deliverDueLogouts(gh.ctx, openIdProviderOf(gh.ctx) ?? assert.fail("provider running"));
    assert.equal(receiver.tokens.length, 1, "one logout token reached the application, not two");
    for (const token of receiver.tokens.splice(0)) {
      const payload = await verifyLogoutToken(app, token);
      assert.equal(payload.sub, claims.sub);
      assert.equal(payload.sid, claims.sid);
    }
  });

  test("an admin's sign-out-everyone queues logout tokens in its transaction; delivery retries until the application answers", async () => {
    const app = await registerApplication(gh, { backchannelLogoutUri: receiver.uri });
    const tokens = await ssoSignIn(new Browser(), app);
    const op = openIdProviderOf(gh.ctx) ?? assert.fail("provider running");
    receiver.tokens.length = 0;
    receiver.failWith = 503;
    assert.ok((await revokeSessionsForOrganization(gh.ctx.store.db, acme.organizationId, gh.ctx.now())) >= 1);
    assert.deepEqual(await deliverDueLogouts(gh.ctx, op), { delivered: 0, failed: 1 });
    const queued = await gh.ctx.store.db.selectFrom("backchannel_logouts").selectAll().execute();
    assert.equal(queued.length, 1);
    assert.equal(queued[0]?.attempts, 1);
    assert.match(queued[0]?.last_error ?? "", /503/);

    receiver.failWith = 200;
    assert.deepEqual(
      await deliverDueLogouts(gh.ctx, op),
      { delivered: 0, failed: 0 },
      "not due before its backoff",
    );
    gh.advance(10_000);
    assert.deepEqual(await deliverDueLogouts(gh.ctx, op), { delivered: 1, failed: 0 });
    const [token] = receiver.tokens;
    assert.ok(token);
    const payload = await verifyLogoutToken(app, token);
    assert.equal(payload.sid, tokens.claims()?.sid);
    assert.equal((await gh.ctx.store.db.selectFrom("backchannel_logouts").selectAll().execute()).length, 0);
  });
});
