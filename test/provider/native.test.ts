/**
 * Native applications (RFC 8252) sign in through Gatehouse: public, PKCE, with a loopback
 * redirect on whatever port the application listens on at that moment, or a private-use scheme.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { Browser } from "../support/browserless.js";
import { freePort, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme, startGatehouseWithIdp } from "../support/sso.js";
import {
  authorizationRequest,
  authorizeWithPassword,
  backAtApplication,
  registerApplication,
} from "./support.js";

describe("Gatehouse as an OpenID Provider: native applications", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;
  let acme: { organizationId: string; adminUserId: string };

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp());
    acme = await seedAcme(gh);
  });
  after(async () => {
    await gh.close();
    await idp.close();
  });

  /** Signs in through `redirectUri` and redeems the code as the native application does. */
  async function signInAt(app: Awaited<ReturnType<typeof registerApplication>>, redirectUri: string) {
    const request = await authorizationRequest(app, { redirect_uri: redirectUri });
    const callback = await authorizeWithPassword(
      new Browser(),
      gh,
      request.url,
      ADMIN.email,
      ADMIN.password,
      redirectUri,
    );
    assert.equal(callback.searchParams.get("iss"), gh.url);
    return client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
  }

  test("a loopback redirect matches on any port: the port the application listens on now", async () => {
    const app = await registerApplication(gh, {
      name: "Acme desktop",
      applicationType: "native",
      redirectUris: ["http://127.0.0.1/callback", "http://[::1]:8080/callback"],
      postLogoutRedirectUris: [],
    });
    assert.equal(app.clientSecret, undefined, "a native application has no secret");
    const port = await freePort();
    const tokens = await signInAt(app, `http://127.0.0.1:${port}/callback`);
    assert.equal(tokens.claims()?.sub, acme.adminUserId);
    assert.equal(tokens.claims()?.aud, app.clientId);
    const v6 = await signInAt(app, `http://[::1]:${await freePort()}/callback`);
    assert.equal(v6.claims()?.sub, acme.adminUserId);
  });

  test("prompt=none is never answered silently for a native application (RFC 8252 8.6)", async () => {
    const app = await registerApplication(gh, {
      name: "Acme desktop",
      applicationType: "native",
      redirectUris: ["http://127.0.0.1/callback"],
      postLogoutRedirectUris: [],
    });
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    const browser = new Browser();
    const first = await authorizationRequest(app, { redirect_uri: redirectUri });
    await authorizeWithPassword(browser, gh, first.url, ADMIN.email, ADMIN.password, redirectUri);
    const silent = await authorizationRequest(app, { redirect_uri: redirectUri, prompt: "none" });
    const back = await backAtApplication(browser, await browser.get(silent.url.toString()), redirectUri);
    assert.equal(back.searchParams.get("error"), "interaction_required");
    assert.equal(back.searchParams.get("code"), null);
  });

  test("a loopback redirect still matches its path exactly, and only on the loopback host", async () => {
    const app = await registerApplication(gh, {
      name: "Acme desktop",
      applicationType: "native",
      redirectUris: ["http://127.0.0.1/callback"],
      postLogoutRedirectUris: [],
    });
    const port = await freePort();
    for (const redirectUri of [
      `http://127.0.0.1:${port}/other`,
      `http://localhost:${port}/callback`,
      `http://127.0.0.2:${port}/callback`,
      `https://127.0.0.1:${port}/callback`,
    ]) {
      const request = await authorizationRequest(app, { redirect_uri: redirectUri });
      const answer = await new Browser().get(request.url.toString());
      assert.equal(answer.status, 400, redirectUri);
      assert.match(answer.body, /data-error-code="invalid_redirect_uri"/, redirectUri);
    }
  });

  test("a web application's loopback redirect keeps its exact port", async () => {
    const app = await registerApplication(gh, {
      name: "Acme dev server",
      public: true,
      redirectUris: ["http://127.0.0.1/callback"],
      postLogoutRedirectUris: [],
    });
    const request = await authorizationRequest(app, {
      redirect_uri: `http://127.0.0.1:${await freePort()}/callback`,
    });
    const answer = await new Browser().get(request.url.toString());
    assert.equal(answer.status, 400);
    assert.match(answer.body, /data-error-code="invalid_redirect_uri"/);
  });

  test("a private-use scheme in reverse-domain form receives the code", async () => {
    const app = await registerApplication(gh, {
      name: "Acme mobile",
      applicationType: "native",
      redirectUris: ["com.example.app:/oauth2redirect"],
      postLogoutRedirectUris: ["com.example.app:/signed-out"],
    });
    const tokens = await signInAt(app, "com.example.app:/oauth2redirect");
    assert.equal(tokens.claims()?.org_slug, "acme");
    const userinfo = await client.fetchUserInfo(app.config, tokens.access_token, acme.adminUserId);
    assert.equal(userinfo.email, ADMIN.email);
  });
});
