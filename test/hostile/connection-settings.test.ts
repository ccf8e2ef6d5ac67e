/**
 * The connection's advanced settings, against the hostile provider:
 *  - private_key_jwt: Gatehouse signs a client assertion with the connection's own key, the
 *    provider fetches the public key from the connection's JWKS URL, and no secret is needed
 *  - the email in another claim (Entra ID's `upn`), with `email_verified: false` about the
 *    unrelated `email` claim not getting in the way
 *  - the connection's clock skew: 0 s refuses a provider clock 30 s ahead; 120 s accepts 100 s
 *  - extra scopes are requested
 *  - Entra ID's `{tenantid}` issuer template: accepted only for Microsoft's origin, and the
 *    ID token's `iss` must be the template filled with its own `tid`
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isEntraTemplateIssuer } from "../../src/sso/oidc/discover.js";
import { expectedTemplateIssuer } from "../../src/sso/oidc/id-token.js";
import { Browser } from "../support/browserless.js";
import { assertRefused, assertSignedIn, type Harness, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe("private_key_jwt", () => {
  test("signs Alice in with a client assertion verified against the connection's JWKS URL", async () => {
    const op = await h.provider({}, { tokenEndpointAuthMethod: "private_key_jwt", clientSecret: "" });
    assert.ok(op.clientJwksUrl?.startsWith(`${h.gh.url}/sso/oidc/connections/`));
    const jwks = (await (await fetch(op.clientJwksUrl as string)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.kty, "RSA");
    assert.equal(jwks.keys[0]?.d, undefined, "the private part is never published");
    await assertSignedIn(h, await signIn(h));
    assert.deepEqual(
      op.tokenRequests.map((r) => r.authMethod),
      ["private_key_jwt"],
    );
  });

  test("a provider that does not advertise it is refused at creation, beside the field", async () => {
    await assert.rejects(
      h.provider(
        { metadata: { token_endpoint_auth_methods_supported: ["client_secret_basic"] } },
        { tokenEndpointAuthMethod: "private_key_jwt" },
      ),
      (error: { code?: string; fields?: Record<string, string> }) =>
        error.code === "VALIDATION_FAILED" &&
        /private_key_jwt/.test(error.fields?.tokenEndpointAuthMethod ?? ""),
    );
  });

  test("an unknown connection's JWKS URL answers 404", async () => {
    const answer = await fetch(
      `${h.gh.url}/sso/oidc/connections/00000000-0000-4000-8000-000000000000/jwks.json`,
    );
    assert.equal(answer.status, 404);
  });
});

describe("email claim", () => {
  test("the address may come from upn when the connection says so", async () => {
    // A new person: an address from upn is unverified, so it never links the Alice account an
    // earlier test made (test/hostile/entra-tenants.test.ts).
    const op = await h.provider(
      { claims: { email: undefined, email_verified: false, upn: "alice.upn@acme.test", sub: "alice-upn" } },
      { emailClaim: "upn" },
    );
    op.user.email = "not-an-address";
    await assertSignedIn(h, await signIn(h), "alice.upn@acme.test");
  });

  test("with the default claim, an ID token and userinfo without email are refused with SSO_EMAIL_MISSING", async () => {
    await h.provider({
      claims: { email: undefined, upn: "alice@acme.test" },
      userinfo: { email: undefined },
    });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), { code: "SSO_EMAIL_MISSING", check: /"email" claim/, before });
  });
});

describe("clock skew", () => {
  test("0 s of allowed skew refuses a provider clock 30 s ahead", async () => {
    await h.provider({ clockOffsetSeconds: 30 }, { clockSkewSeconds: 0 });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), { code: "SSO_ID_TOKEN_INVALID", check: /iat|nbf/, before });
  });

  test("120 s of allowed skew accepts a provider clock 100 s ahead", async () => {
    await h.provider({ clockOffsetSeconds: 100 }, { clockSkewSeconds: 120 });
    await assertSignedIn(h, await signIn(h));
  });
});

describe("extra scopes", () => {
  test("are sent in the authorization request", async () => {
    await h.provider({}, { extraScopes: ["groups", "offline_access"] });
    const browser = new Browser();
    const start = await browser.get(`${h.gh.url}/sso/start?email=alice@acme.test`);
    const scope = new URL(start.location as string).searchParams.get("scope");
    assert.equal(scope, "openid email profile groups offline_access");
  });
});

describe("Entra ID issuer templates", () => {
  test("a {tenantid} template is accepted for Microsoft's origin only, in place of the entered segment", () => {
    const template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    assert.equal(
      isEntraTemplateIssuer("https://login.microsoftonline.com/organizations/v2.0", template),
      true,
    );
    assert.equal(isEntraTemplateIssuer("https://login.microsoftonline.com/common/v2.0", template), true);
    assert.equal(isEntraTemplateIssuer("https://login.microsoftonline.com/common/v1.0", template), false);
    assert.equal(
      isEntraTemplateIssuer(
        "https://evil.example/organizations/v2.0",
        "https://evil.example/{tenantid}/v2.0",
      ),
      false,
    );
    assert.equal(
      isEntraTemplateIssuer(
        "https://login.microsoftonline.com/organizations/v2.0",
        "https://login.microsoftonline.com/x/v2.0",
      ),
      false,
    );
    assert.equal(
      isEntraTemplateIssuer("https://login.microsoftonline.com/organizations/v2.0", undefined),
      false,
    );
  });

  test("the ID token's iss must be the template filled with its own tid", () => {
    const template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
    assert.equal(expectedTemplateIssuer(template, tid), `https://login.microsoftonline.com/${tid}/v2.0`);
    assert.equal(expectedTemplateIssuer(template, undefined), undefined);
    assert.equal(expectedTemplateIssuer(template, "../evil"), undefined);
    assert.equal(expectedTemplateIssuer(template, 42), undefined);
  });
});
