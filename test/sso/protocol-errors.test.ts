import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as client from "openid-client";
import { remedyOf } from "../../src/error-remedy.js";
import { toSignInError } from "../../src/sso/oidc/protocol-errors.js";

/** The token endpoint's 401 as openid-client reports it to the callback. */
async function refusedAtTokenEndpoint(challenge: string): Promise<unknown> {
  const config = new client.Configuration(
    { issuer: "https://op.test", token_endpoint: "https://op.test/token" },
    "gatehouse",
    "client-secret",
  );
  config[client.customFetch] = async () =>
    Response.json({ error: "invalid_client" }, { status: 401, headers: { "www-authenticate": challenge } });
  return client
    .authorizationCodeGrant(config, new URL("https://gatehouse.test/sso/oidc/callback?code=c&state=s"), {
      expectedState: "s",
      pkceCodeVerifier: "v".repeat(43),
    })
    .then(
      () => assert.fail("the token request succeeded"),
      (error: unknown) => error,
    );
}

describe("a token endpoint's 401 challenge in the admin's audit detail", () => {
  test("the challenge's error and description are kept (Authlib names invalid_client only there)", async () => {
    const error = toSignInError(
      await refusedAtTokenEndpoint('Basic error="invalid_client", error_description="Bad client"'),
    );
    assert.equal(error.code, "SSO_TOKEN_REQUEST_FAILED");
    // What to do first, in the admin's words, then what the provider said.
    assert.match(
      error.detail ?? "",
      /^The provider refused Gatehouse's client ID or secret\. If the secret was regenerated/,
    );
    assert.match(
      error.detail ?? "",
      /Token endpoint answered HTTP 401 with a WWW-Authenticate challenge: basic error=invalid_client: Bad client$/,
    );
    // The test sign-in's token request row shows it as expected against received.
    assert.deepEqual(error.check, {
      check: "token_request",
      expected: "the client authenticated, an ID token issued",
      received: "HTTP 401, basic error=invalid_client: Bad client",
    });
  });

  test("a challenge without an error names its scheme", async () => {
    const error = toSignInError(await refusedAtTokenEndpoint('Basic realm="token"'));
    assert.equal(error.code, "SSO_TOKEN_REQUEST_FAILED");
    assert.match(error.detail ?? "", /WWW-Authenticate challenge: basic$/);
    assert.equal(error.check?.received, "HTTP 401, basic");
  });
});

describe("a token endpoint's error answer", () => {
  async function answered(status: number, body: Record<string, string>): Promise<unknown> {
    const config = new client.Configuration(
      { issuer: "https://op.test", token_endpoint: "https://op.test/token" },
      "gatehouse",
      "client-secret",
    );
    config[client.customFetch] = async () => Response.json(body, { status });
    return client
      .authorizationCodeGrant(config, new URL("https://gatehouse.test/sso/oidc/callback?code=c&state=s"), {
        expectedState: "s",
        pkceCodeVerifier: "v".repeat(43),
      })
      .then(
        () => assert.fail("the token request succeeded"),
        (error: unknown) => error,
      );
  }

  test("invalid_client without a challenge gets the same next step", async () => {
    const error = toSignInError(await answered(400, { error: "invalid_client" }));
    assert.equal(error.code, "SSO_TOKEN_REQUEST_FAILED");
    assert.match(error.detail ?? "", /^The provider refused Gatehouse's client ID or secret\./);
    assert.match(error.detail ?? "", /Token endpoint answered HTTP 400 error=invalid_client$/);
    assert.deepEqual(error.check, {
      check: "token_request",
      expected: "the client authenticated, an ID token issued",
      received: "HTTP 400 error=invalid_client",
    });
  });

  test("another error is reported as the provider said, without the client advice", async () => {
    const error = toSignInError(
      await answered(400, { error: "invalid_grant", error_description: "code used" }),
    );
    assert.equal(error.detail, "Token endpoint answered HTTP 400 error=invalid_grant: code used");
    assert.equal(error.check?.received, "HTTP 400 error=invalid_grant: code used");
  });
});

describe("what the provider answered, kept as data for the remedy", () => {
  const callback = "https://gatehouse.test/sso/oidc/callback?code=c&state=s";
  async function tokenAnswer(response: () => Response, url = callback): Promise<unknown> {
    const config = new client.Configuration(
      { issuer: "https://op.test", token_endpoint: "https://op.test/token" },
      "gatehouse",
      "client-secret",
    );
    config[client.customFetch] = async () => response();
    return client
      .authorizationCodeGrant(config, new URL(url), { expectedState: "s", pkceCodeVerifier: "v".repeat(43) })
      .then(
        () => assert.fail("the token request succeeded"),
        (error: unknown) => error,
      );
  }

  const cases: [string, () => Response, { error?: string; status?: number } | undefined, string][] = [
    [
      "a 401 challenge naming invalid_client",
      () =>
        new Response(null, { status: 401, headers: { "www-authenticate": 'Basic error="invalid_client"' } }),
      { error: "invalid_client", status: 401 },
      "administrator",
    ],
    [
      "a 401 challenge naming nothing",
      () => new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="token"' } }),
      { status: 401 },
      "administrator",
    ],
    [
      "HTTP 400 invalid_client",
      () => Response.json({ error: "invalid_client", error_description: "secret expired" }, { status: 400 }),
      { error: "invalid_client", status: 400 },
      "administrator",
    ],
    [
      "HTTP 400 unauthorized_client",
      () => Response.json({ error: "unauthorized_client" }, { status: 400 }),
      { error: "unauthorized_client", status: 400 },
      "administrator",
    ],
    [
      "HTTP 401 without a challenge or JSON",
      () => new Response("Unauthorized", { status: 401 }),
      { status: 401 },
      "administrator",
    ],
    [
      "HTTP 400 invalid_grant",
      () => Response.json({ error: "invalid_grant" }, { status: 400 }),
      { error: "invalid_grant", status: 400 },
      "retry",
    ],
    [
      "HTTP 400 temporarily_unavailable",
      () => Response.json({ error: "temporarily_unavailable" }, { status: 400 }),
      { error: "temporarily_unavailable", status: 400 },
      "retry",
    ],
    ["HTTP 503", () => new Response("busy", { status: 503 }), { status: 503 }, "retry"],
    [
      "HTTP 500 with a JSON error",
      () => Response.json({ error: "server_error" }, { status: 500 }),
      { status: 500 },
      "retry",
    ],
  ];
  for (const [name, response, answer, remedy] of cases) {
    test(`${name}: ${remedy}`, async () => {
      const error = toSignInError(await tokenAnswer(response));
      assert.equal(error.code, "SSO_TOKEN_REQUEST_FAILED");
      assert.deepEqual(error.providerAnswer, answer);
      assert.equal(remedyOf(error), remedy);
    });
  }

  for (const [idpError, remedy] of [
    ["unauthorized_client", "administrator"],
    ["invalid_scope", "administrator"],
    ["access_denied", "retry"],
    ["temporarily_unavailable", "retry"],
  ] as const) {
    test(`the authorization response's error=${idpError}: ${remedy}, its description not kept as data`, async () => {
      const error = toSignInError(
        await tokenAnswer(
          () => assert.fail("no token request after an error response"),
          `https://gatehouse.test/sso/oidc/callback?error=${idpError}&error_description=Secret%20stuff&state=s`,
        ),
      );
      assert.equal(error.code, "SSO_IDP_ERROR");
      assert.deepEqual(error.providerAnswer, { error: idpError });
      assert.equal(remedyOf(error), remedy);
    });
  }
});
