/**
 * What an honest (or merely unusual) provider must still be able to do: sign Alice in.
 *  - ID tokens signed with RS256, PS256, ES256 and EdDSA
 *  - no `kid`, with a single key in the JWKS
 *  - key rotation: an unknown `kid` makes Gatehouse refetch the JWKS once, and the sign-in works
 *  - unknown `kid`s within the refetch cooldown cause at most one extra JWKS fetch
 *  - client_secret_basic, and client_secret_post when it is the only method advertised
 *  - no RFC 9207 `iss` parameter when the metadata does not advertise it
 *  - claims only in userinfo (the ID token carries `sub` alone)
 *  - a provider clock 55 s ahead or behind (within the 60 s skew)
 *  - an ID token issued 9 minutes ago (inside the 10-minute bound)
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { REFETCH_COOLDOWN_MS } from "../../src/sso/oidc/id-token.js";
import { SIGNING_ALGS } from "./provider.js";
import { assertRefused, assertSignedIn, type Harness, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe("signature algorithms", () => {
  for (const alg of SIGNING_ALGS) {
    test(`an ${alg} ID token signs Alice in`, async () => {
      await h.provider({ alg });
      await assertSignedIn(h, await signIn(h));
    });
  }
});

describe("keys", () => {
  test("no kid is accepted when the JWKS holds a single key", async () => {
    const op = await h.provider({ kid: null });
    op.keys = op.keys.filter((k) => k.alg === "RS256");
    await assertSignedIn(h, await signIn(h));
  });

  test("after a key rotation, the unknown kid makes Gatehouse refetch the JWKS once and the sign-in works", async () => {
    const op = await h.provider();
    await assertSignedIn(h, await signIn(h));
    assert.equal(op.calls.jwks, 1);
    await op.rotateKey("RS256");
    h.gh.advance(REFETCH_COOLDOWN_MS + 1000);
    await assertSignedIn(h, await signIn(h));
    assert.equal(op.calls.jwks, 2, "exactly one refetch");
  });

  test("made-up kids within the refetch cooldown cause at most one extra JWKS fetch", async () => {
    const op = await h.provider();
    await assertSignedIn(h, await signIn(h));
    assert.equal(op.calls.jwks, 1);
    h.gh.advance(REFETCH_COOLDOWN_MS + 1000);
    for (let i = 0; i < 4; i++) {
      op.set({ kid: `made-up-${i}` });
      // In parallel too: a burst of sign-ins shares the one refetch.
      const attempts = await Promise.all([signIn(h), signIn(h)]);
      for (const attempt of attempts) {
        assert.notEqual(attempt.answer.status, 303);
      }
    }
    assert.equal(op.calls.jwks, 2, "one refetch for eight unknown kids");
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), { code: "SSO_ID_TOKEN_INVALID", check: /key not found/, before });
    assert.equal(op.calls.jwks, 2);
  });
});

describe("client authentication", () => {
  test("client_secret_basic by default", async () => {
    const op = await h.provider();
    await assertSignedIn(h, await signIn(h));
    assert.deepEqual(
      op.tokenRequests.map((r) => r.authMethod),
      ["client_secret_basic"],
    );
  });

  test("client_secret_post when the provider advertises only that", async () => {
    const op = await h.provider({
      metadata: { token_endpoint_auth_methods_supported: ["client_secret_post"] },
    });
    await assertSignedIn(h, await signIn(h));
    assert.deepEqual(
      op.tokenRequests.map((r) => r.authMethod),
      ["client_secret_post"],
    );
  });
});

describe("authorization response", () => {
  test("no iss parameter is fine when the metadata does not advertise RFC 9207", async () => {
    await h.provider({
      issParameter: "omit",
      metadata: { authorization_response_iss_parameter_supported: undefined },
    });
    await assertSignedIn(h, await signIn(h));
  });
});

describe("claims", () => {
  test("an ID token with sub alone: userinfo supplies the profile", async () => {
    const op = await h.provider({ profileInIdToken: false });
    await assertSignedIn(h, await signIn(h));
    assert.equal(op.calls.userinfo, 1);
  });

  test("a provider clock 55 s ahead", async () => {
    await h.provider({ clockOffsetSeconds: 55 });
    await assertSignedIn(h, await signIn(h));
  });

  test("a provider clock 55 s behind, with an ID token that by our clock expired 25 s ago", async () => {
    await h.provider({ clockOffsetSeconds: -55, idTokenLifetimeSeconds: 30 });
    await assertSignedIn(h, await signIn(h));
  });

  test("an ID token issued 9 minutes ago", async () => {
    await h.provider({ clockOffsetSeconds: -9 * 60, idTokenLifetimeSeconds: 15 * 60 });
    await assertSignedIn(h, await signIn(h));
  });
});
