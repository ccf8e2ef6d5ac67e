import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as client from "openid-client";
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
    assert.match(
      error.detail ?? "",
      /^HTTP 401 with a WWW-Authenticate challenge basic error=invalid_client: Bad client \(check the client ID/,
    );
  });

  test("a challenge without an error names its scheme", async () => {
    const error = toSignInError(await refusedAtTokenEndpoint('Basic realm="token"'));
    assert.equal(error.code, "SSO_TOKEN_REQUEST_FAILED");
    assert.match(error.detail ?? "", /^HTTP 401 with a WWW-Authenticate challenge basic \(check/);
  });
});
