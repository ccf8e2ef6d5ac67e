/**
 * The OpenID Connect adapter's `validateSettings` (the adapter contract, src/sign-in/adapter.ts):
 * an admin's settings for a connection, normalized, or every problem per field. Run through the
 * adapter the deployment registers, as any caller of the contract would reach it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isGatehouseError } from "../../src/errors.js";
import type { SignInAdapter } from "../../src/sign-in/adapter.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

let gh: TestGatehouse;
let oidc: SignInAdapter;

before(async () => {
  gh = await startGatehouse();
  oidc = gh.ctx.signIn.get(gh.ctx, "oidc");
});
after(() => gh.close());

const TENANT = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";

async function validate(input: unknown): Promise<unknown> {
  assert.ok(oidc.validateSettings, "the OpenID Connect adapter validates its settings");
  return oidc.validateSettings(input);
}

/** The per-field messages of a refusal, which must be VALIDATION_FAILED. */
async function refusedFields(input: unknown): Promise<string[]> {
  try {
    await validate(input);
  } catch (error) {
    assert.ok(isGatehouseError(error), String(error));
    assert.equal(error.code, "VALIDATION_FAILED");
    return Object.keys(error.fields ?? {}).sort();
  }
  assert.fail("the settings were accepted");
}

describe("OpenID Connect adapter: validateSettings", () => {
  test("trims, fills in the defaults and drops scopes every sign-in asks for anyway", async () => {
    assert.deepEqual(
      await validate({
        issuer: " https://acme.okta.com ",
        clientId: " 0oa1b2c3 ",
        clientSecret: " s3cret ",
        extraScopes: ["openid", "groups", "groups", " offline_access "],
        allowedTenants: [TENANT, TENANT.toLowerCase()],
      }),
      {
        issuer: "https://acme.okta.com",
        clientId: "0oa1b2c3",
        clientSecret: "s3cret",
        tokenEndpointAuthMethod: "auto",
        extraScopes: ["groups", "offline_access"],
        emailClaim: "email",
        clockSkewSeconds: 60,
        allowedTenants: [TENANT.toLowerCase()],
      },
    );
  });

  test("private_key_jwt needs no client secret; the other methods do", async () => {
    const base = { issuer: "https://acme.okta.com", clientId: "c", clientSecret: "" };
    const settings = (await validate({ ...base, tokenEndpointAuthMethod: "private_key_jwt" })) as {
      tokenEndpointAuthMethod: string;
    };
    assert.equal(settings.tokenEndpointAuthMethod, "private_key_jwt");
    assert.deepEqual(await refusedFields({ ...base, tokenEndpointAuthMethod: "client_secret_post" }), [
      "clientSecret",
    ]);
  });

  test("every missing field is named at once", async () => {
    assert.deepEqual(await refusedFields({}), ["clientId", "clientSecret", "issuer"]);
    assert.deepEqual(await refusedFields(null), ["clientId", "clientSecret", "issuer"]);
  });

  test("a value out of range or malformed is refused on its field", async () => {
    const base = { issuer: "https://acme.okta.com", clientId: "c", clientSecret: "s" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ clockSkewSeconds: 301 }, "clockSkewSeconds"],
      [{ clockSkewSeconds: 1.5 }, "clockSkewSeconds"],
      [{ extraScopes: ["two words"] }, "extraScopes"],
      [{ emailClaim: "e mail" }, "emailClaim"],
      [{ allowedTenants: ["contoso.onmicrosoft.com"] }, "allowedTenants"],
      [{ tokenEndpointAuthMethod: "none" }, "tokenEndpointAuthMethod"],
      [{ issuer: `https://${"a".repeat(500)}.test` }, "issuer"],
    ];
    for (const [change, field] of cases) {
      assert.deepEqual(await refusedFields({ ...base, ...change }), [field], JSON.stringify(change));
    }
  });

  test("a value of the wrong type is refused on its field, never coerced", async () => {
    const base = { issuer: "https://acme.okta.com", clientId: "c", clientSecret: "s" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ issuer: 42 }, "issuer"],
      [{ clientSecret: ["s"] }, "clientSecret"],
      [{ clockSkewSeconds: "60" }, "clockSkewSeconds"],
      [{ extraScopes: "groups" }, "extraScopes"],
      [{ allowedTenants: [TENANT, 7] }, "allowedTenants"],
      [{ tokenEndpointAuthMethod: true }, "tokenEndpointAuthMethod"],
    ];
    for (const [change, field] of cases) {
      assert.deepEqual(await refusedFields({ ...base, ...change }), [field], JSON.stringify(change));
    }
  });

  test("LinkedIn, configured by the deployment, has no settings to validate", () => {
    assert.equal(gh.ctx.signIn.get(gh.ctx, "linkedin").validateSettings, undefined);
  });
});
