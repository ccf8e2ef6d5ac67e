/**
 * ID token signatures a broken or malicious provider may send; none may produce a session.
 * The provider advertises whatever it signs with, so Gatehouse's own key policy is what refuses.
 *  - a corrupted signature, for RS256, PS256 and ES256 (and EdDSA)
 *  - `alg: none`
 *  - HS256 keyed with the client secret while the provider publishes asymmetric keys
 *  - a `kid` not in the JWKS, even after the one refetch
 *  - no `kid` while the JWKS holds several keys of the same type and algorithm
 *  - a `kid` that names a key of another type than the header's `alg`
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { REFETCH_COOLDOWN_MS } from "../../src/sso/oidc/id-token.js";
import { generateSigningKey, SIGNING_ALGS } from "./provider.js";
import { assertRefused, assertSignedIn, type Harness, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe("signatures", () => {
  for (const alg of SIGNING_ALGS) {
    test(`a corrupted ${alg} signature is refused`, async () => {
      await h.provider({ alg, signature: "corrupt" });
      const before = await snapshot(h);
      await assertRefused(h, await signIn(h), {
        code: "SSO_ID_TOKEN_INVALID",
        check: /signature invalid/,
        before,
      });
    });
  }

  test("alg: none is refused", async () => {
    await h.provider({ signature: "none" });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /algorithm.*"none"|"none".*algorithm|alg.*none/i,
      before,
    });
  });

  test("HS256 keyed with the client secret is refused while the provider publishes asymmetric keys", async () => {
    await h.provider({ signature: "hs256-client-secret" });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /algorithm.*HS256|HS256.*algorithm|alg.*HS256/i,
      before,
    });
  });
});

describe("key selection", () => {
  test("a kid not in the JWKS is refused, after exactly one refetch", async () => {
    const op = await h.provider();
    await assertSignedIn(h, await signIn(h));
    assert.equal(op.calls.jwks, 1);
    h.gh.advance(REFETCH_COOLDOWN_MS + 1000);
    op.set({ kid: "not-in-the-jwks" });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /signature key not found/,
      before,
    });
    assert.equal(op.calls.jwks, 2, "refetched once");
  });

  test("no kid is refused while the JWKS holds several RS256 keys", async () => {
    const op = await h.provider({ kid: null });
    const second = await generateSigningKey("RS256");
    op.keys = [...op.keys, second];
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /no "kid" and the JWKS holds several keys/,
      before,
    });
  });

  test("a kid naming an RSA key under an ES256 header is refused", async () => {
    const op = await h.provider({ alg: "ES256" });
    const rsa = op.keys.find((k) => k.alg === "RS256");
    assert.ok(rsa);
    op.set({ alg: "ES256", kid: rsa.kid });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /signature key not found/,
      before,
    });
  });
});
