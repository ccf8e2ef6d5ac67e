import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { Browser, passwordSignIn } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme, startGatehouseWithIdp } from "../support/sso.js";
import {
  authorizationRequest,
  authorizeWithPassword,
  backAtApplication,
  REDIRECT_URI,
  registerApplication,
  type TestApplication,
} from "./support.js";

async function errorOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    // A 401 answers with a WWW-Authenticate challenge, which openid-client reports as its cause.
    const challenge = (error as { cause?: { parameters?: { error?: string } }[] }).cause;
    if (Array.isArray(challenge)) return challenge[0]?.parameters?.error;
    return (error as { error?: string }).error ?? (error as Error).message;
  }
  return undefined;
}

describe("Gatehouse as an OpenID Provider: what it refuses", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;
  let app: TestApplication;
  let other: TestApplication;

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp());
    await seedAcme(gh);
    app = await registerApplication(gh);
    other = await registerApplication(gh, {
      name: "Other SaaS",
      tokenEndpointAuthMethod: "client_secret_post",
    });
  });
  after(async () => {
    await gh.close();
    await idp.close();
  });

  /** A signed-in browser and an authorization response for `application`. */
  async function codeFor(application: TestApplication, extra: Record<string, string> = {}) {
    const request = await authorizationRequest(application, extra);
    const callback = await authorizeWithPassword(new Browser(), gh, request.url, ADMIN.email, ADMIN.password);
    return { request, callback };
  }

  test("an unregistered redirect URI is refused on Gatehouse's own page, never redirected to", async () => {
    const request = await authorizationRequest(app);
    request.url.searchParams.set("redirect_uri", "https://attacker.example/callback");
    const answer = await new Browser().get(request.url.toString());
    assert.equal(answer.status, 400);
    assert.equal(answer.location, undefined);
    assert.match(answer.body, /data-error-code="invalid_redirect_uri"/);
    // Exact match: the registered URI with an extra query parameter is another URI.
    request.url.searchParams.set("redirect_uri", `${REDIRECT_URI}?next=/admin`);
    assert.equal((await new Browser().get(request.url.toString())).status, 400);
  });

  test("a code is redeemed once; a replay fails and revokes what the code gave", async () => {
    const { request, callback } = await codeFor(app);
    const checks = {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    };
    const tokens = await client.authorizationCodeGrant(app.config, callback, checks);
    assert.equal(await errorOf(client.authorizationCodeGrant(app.config, callback, checks)), "invalid_grant");
    // OAuth 2.0 Security BCP 4.5: the tokens issued for a replayed code are revoked.
    assert.ok(await errorOf(client.fetchUserInfo(app.config, tokens.access_token, client.skipSubjectCheck)));
  });

  test("a code issued to one application is refused to another", async () => {
    const { request, callback } = await codeFor(app);
    const stolen = new URL(callback);
    const error = await errorOf(
      client.authorizationCodeGrant(other.config, stolen, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
      }),
    );
    assert.equal(error, "invalid_grant");
  });

  test("the code verifier must match the challenge", async () => {
    const { request, callback } = await codeFor(app);
    const error = await errorOf(
      client.authorizationCodeGrant(app.config, callback, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: request.state,
      }),
    );
    assert.equal(error, "invalid_grant");
  });

  test("a public application must send a PKCE challenge, and signs in with one", async () => {
    const spa = await registerApplication(gh, { name: "SPA", public: true });
    const request = await authorizationRequest(spa);
    const withoutPkce = new URL(request.url);
    withoutPkce.searchParams.delete("code_challenge");
    withoutPkce.searchParams.delete("code_challenge_method");
    const refused = await backAtApplication(new Browser(), await new Browser().get(withoutPkce.toString()));
    assert.equal(refused.searchParams.get("error"), "invalid_request");
    assert.match(refused.searchParams.get("error_description") ?? "", /PKCE/);
    assert.equal(refused.searchParams.get("code"), null);

    const callback = await authorizeWithPassword(new Browser(), gh, request.url, ADMIN.email, ADMIN.password);
    const tokens = await client.authorizationCodeGrant(spa.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    assert.ok(tokens.id_token);
  });

  test("request objects, signed or with alg none, are not accepted", async () => {
    const request = await authorizationRequest(app);
    const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    const payload = Buffer.from(
      JSON.stringify({
        iss: app.clientId,
        aud: gh.url,
        client_id: app.clientId,
        response_type: "code",
        redirect_uri: REDIRECT_URI,
        scope: "openid",
      }),
    ).toString("base64url");
    request.url.searchParams.set("request", `${header}.${payload}.`);
    const refused = await backAtApplication(new Browser(), await new Browser().get(request.url.toString()));
    assert.equal(refused.searchParams.get("error"), "request_not_supported");
    assert.equal(refused.searchParams.get("code"), null);
  });

  test("implicit and hybrid response types are refused", async () => {
    const request = await authorizationRequest(app);
    request.url.searchParams.set("response_type", "id_token token");
    const refused = await backAtApplication(new Browser(), await new Browser().get(request.url.toString()));
    // Answered in the fragment, the response mode of the type that was asked for.
    const answer = new URLSearchParams(refused.hash.slice(1));
    assert.equal(answer.get("error"), "unsupported_response_type");
    assert.equal(answer.get("id_token"), null);
  });

  test("prompt=none without a Gatehouse session answers login_required", async () => {
    const request = await authorizationRequest(app, { prompt: "none" });
    const refused = await backAtApplication(new Browser(), await new Browser().get(request.url.toString()));
    assert.equal(refused.searchParams.get("error"), "login_required");
  });

  test("a wrong client secret is refused", async () => {
    const { request, callback } = await codeFor(app);
    const impostor = new client.Configuration(
      app.config.serverMetadata(),
      app.clientId,
      undefined,
      client.ClientSecretBasic("not-the-secret"),
    );
    client.allowInsecureRequests(impostor);
    const error = await errorOf(
      client.authorizationCodeGrant(impostor, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
      }),
    );
    assert.equal(error, "invalid_client");
  });

  test("refresh tokens only with offline_access, rotated at each use; a used one is refused", async () => {
    const { request, callback } = await codeFor(other, {
      scope: "openid email offline_access",
      prompt: "consent",
    });
    const tokens = await client.authorizationCodeGrant(other.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const first = tokens.refresh_token;
    assert.ok(first, "offline_access with prompt=consent gives a refresh token");
    const refreshed = await client.refreshTokenGrant(other.config, first);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== first, "rotated");
    assert.equal(refreshed.claims()?.sub, tokens.claims()?.sub);
    assert.equal(await errorOf(client.refreshTokenGrant(other.config, first)), "invalid_grant");
  });

  test("an application asking for another organization only ever learns the person's own", async () => {
    const { organization: globex } = await createOrganizationWithAdmin(gh.ctx, {
      slug: "globex",
      name: "Globex",
      adminEmail: "hank@globex.test",
      adminPassword: "correct horse battery staple",
    });
    const browser = new Browser();
    await passwordSignIn(browser, gh.url, "hank@globex.test", "correct horse battery staple");
    const request = await authorizationRequest(app, { organization: "acme" });
    const callback = await backAtApplication(browser, await browser.get(request.url.toString()));
    const tokens = await client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const claims = tokens.claims();
    assert.equal(claims?.org_slug, "globex");
    assert.equal(claims?.org_id, globex.id);
    const userinfo = await client.fetchUserInfo(app.config, tokens.access_token, claims?.sub as string);
    assert.equal(userinfo.org_slug, "globex");
  });
});
