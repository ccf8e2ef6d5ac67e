import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decodeProtectedHeader } from "jose";
import * as client from "openid-client";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { openIdProviderOf } from "../../src/provider/routes.js";
import { rotateSigningKey } from "../../src/provider/signing-keys.js";
import { Browser } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme, startGatehouseWithIdp } from "../support/sso.js";
import {
  authorizationRequest,
  authorizeWithPassword,
  backAtApplication,
  REDIRECT_URI,
  registerApplication,
} from "./support.js";

describe("Gatehouse as an OpenID Provider: code flow with openid-client", () => {
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

  test("discovery names the issuer and only the code flow", async () => {
    const app = await registerApplication(gh);
    const metadata = app.config.serverMetadata();
    assert.equal(metadata.issuer, gh.url);
    assert.deepEqual(metadata.response_types_supported, ["code"]);
    assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.ok(!metadata.grant_types_supported?.includes("implicit"));
    assert.ok(!metadata.grant_types_supported?.includes("password"));
    assert.equal(metadata.backchannel_logout_supported, true);
    assert.ok(metadata.end_session_endpoint?.startsWith(`${gh.url}/oidc/`));
  });

  test("a confidential application signs a person in: ID token, claims and userinfo", async () => {
    const app = await registerApplication(gh);
    const browser = new Browser();
    const request = await authorizationRequest(app);
    const callback = await authorizeWithPassword(browser, gh, request.url, ADMIN.email, ADMIN.password);
    assert.equal(callback.searchParams.get("iss"), gh.url, "RFC 9207 iss in the authorization response");
    const tokens = await client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.sub, acme.adminUserId);
    assert.equal(claims.email, ADMIN.email);
    assert.equal(claims.org_id, acme.organizationId);
    assert.equal(claims.org_slug, "acme");
    assert.equal(claims.org_role, "owner");
    assert.equal(claims.auth_method, "password");
    assert.deepEqual(claims.amr, ["pwd"]);
    assert.equal(typeof claims.auth_time, "number");
    assert.equal(tokens.refresh_token, undefined, "no refresh token without offline_access");
    const userinfo = await client.fetchUserInfo(app.config, tokens.access_token, acme.adminUserId);
    assert.equal(userinfo.email, ADMIN.email);
    assert.equal(userinfo.org_slug, "acme");
  });
});

describe("Gatehouse as an OpenID Provider: what discovery advertises beyond the basic code flow", () => {
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

  test("a pushed authorization request (RFC 9126) signs a person in", async () => {
    const app = await registerApplication(gh);
    assert.equal(app.config.serverMetadata().pushed_authorization_request_endpoint, `${gh.url}/oidc/request`);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(app.config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid email",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    assert.ok(url.searchParams.get("request_uri")?.startsWith("urn:ietf:params:oauth:request_uri:"));
    const callback = await authorizeWithPassword(new Browser(), gh, url, ADMIN.email, ADMIN.password);
    const tokens = await client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    assert.equal(tokens.claims()?.sub, acme.adminUserId);
  });

  test("DPoP (RFC 9449) binds the access token to the application's key; userinfo wants the proof", async () => {
    const app = await registerApplication(gh, { public: true });
    assert.ok(app.config.serverMetadata().dpop_signing_alg_values_supported?.includes("ES256"));
    const dpop = client.getDPoPHandle(app.config, await client.randomDPoPKeyPair("ES256"));
    const request = await authorizationRequest(app);
    const callback = await authorizeWithPassword(new Browser(), gh, request.url, ADMIN.email, ADMIN.password);
    const tokens = await client.authorizationCodeGrant(
      app.config,
      callback,
      { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce },
      undefined,
      { DPoP: dpop },
    );
    assert.equal(tokens.token_type, "dpop");
    const userinfo = await client.fetchUserInfo(app.config, tokens.access_token, acme.adminUserId, {
      DPoP: dpop,
    });
    assert.equal(userinfo.sub, acme.adminUserId);
    const withoutProof = await fetch(`${gh.url}/oidc/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(withoutProof.status, 401, "a DPoP-bound token is refused as a plain bearer token");
  });

  test("response_mode form_post and fragment carry the code; query is the default", async () => {
    const app = await registerApplication(gh);
    const browser = new Browser();
    const formPost = await authorizationRequest(app, { response_mode: "form_post" });
    await authorizeWithPassword(
      browser,
      gh,
      (await authorizationRequest(app)).url,
      ADMIN.email,
      ADMIN.password,
    );
    const page = await browser.follow(await browser.get(formPost.url.toString()), () => false);
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(`<form method="post" action="${REDIRECT_URI}">`));
    assert.match(page.body, /name="code" value="[^"]+"/);
    assert.match(page.body, new RegExp(`name="state" value="${formPost.state}"`));
    // Gatehouse's Content-Security-Policy admits the page's one script by its hash, nothing else.
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src[^;]*'sha256-/);

    const fragment = await authorizationRequest(app, { response_mode: "fragment" });
    const back = await backAtApplication(browser, await browser.get(fragment.url.toString()));
    const values = new URLSearchParams(back.hash.slice(1));
    assert.ok(values.get("code"));
    assert.equal(values.get("state"), fragment.state);
    assert.equal(back.searchParams.get("code"), null);
  });

  test("token introspection is not offered: access tokens are opaque, checked at userinfo", async () => {
    const app = await registerApplication(gh);
    assert.equal(app.config.serverMetadata().introspection_endpoint, undefined);
    const answer = await fetch(`${gh.url}/oidc/token/introspection`, { method: "POST" });
    assert.equal(answer.status, 404);
  });
});

describe("Gatehouse as an OpenID Provider: signing keys", () => {
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

  async function signIn(): Promise<string> {
    const app = await registerApplication(gh);
    const request = await authorizationRequest(app);
    const callback = await authorizeWithPassword(new Browser(), gh, request.url, ADMIN.email, ADMIN.password);
    const tokens = await client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    return decodeProtectedHeader(tokens.id_token as string).kid as string;
  }

  async function publishedKids(): Promise<string[]> {
    const jwks = (await (await fetch(`${gh.url}/oidc/jwks`)).json()) as {
      keys: { kid: string; d?: string }[];
    };
    assert.ok(
      jwks.keys.every((key) => key.d === undefined),
      "only public keys are published",
    );
    return jwks.keys.map((key) => key.kid);
  }

  test("a rotated key is published at once and signs only after the overlap", async () => {
    const op = openIdProviderOf(gh.ctx);
    assert.ok(op);
    const [first] = await publishedKids();
    assert.ok(first);
    assert.equal(await signIn(), first);

    const rotated = await rotateSigningKey(gh.ctx, 60 * 60 * 1000);
    await op.refresh();
    assert.deepEqual(await publishedKids(), [first, rotated.kid]);
    assert.equal(await signIn(), first, "the old key signs during the overlap");

    gh.advance(60 * 60 * 1000 + 1000);
    await op.refresh();
    assert.deepEqual(
      (await publishedKids()).sort(),
      [first, rotated.kid].sort(),
      "the old key stays published",
    );
    assert.equal(await signIn(), rotated.kid);
  });
});
