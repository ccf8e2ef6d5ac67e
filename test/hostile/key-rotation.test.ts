/**
 * Signing-key rotation: a provider that replaces its key between two sign-ins must not fail
 * the second one, and a provider that makes up `kid`s must not make Gatehouse fetch its JWKS
 * on every request.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { REFETCH_COOLDOWN_MS } from "../../src/sso/oidc/id-token.js";
import type { Scenario } from "./provider.js";
import { assertRefused, assertSignedIn, type Harness, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

/** Moves Gatehouse's clock and the provider's together, as real time does. */
function secondsLater(seconds: number, skewed: Scenario): Scenario {
  h.gh.advance(seconds * 1000);
  return { ...skewed, clockOffsetSeconds: (skewed.clockOffsetSeconds ?? 0) + seconds };
}

test("two sign-ins one second apart with the key replaced between them both succeed, one refetch", async () => {
  const op = await h.provider();
  await assertSignedIn(h, await signIn(h));
  assert.equal(op.calls.jwks, 1);
  await op.rotateKey("RS256");
  op.set(secondsLater(1, {}));
  await assertSignedIn(h, await signIn(h));
  assert.equal(op.calls.jwks, 2, "the rotated key was fetched once");
});

test("made-up kids on fresh tokens still fetch at most once per cooldown", async () => {
  const op = await h.provider();
  await assertSignedIn(h, await signIn(h));
  let scenario = secondsLater(1, { kid: "made-up" });
  op.set(scenario);
  for (let i = 0; i < 3; i++) {
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /signature key not found/,
      before,
    });
    scenario = secondsLater(1, scenario);
    op.set(scenario);
  }
  assert.equal(op.calls.jwks, 2, "one early refetch inside the cooldown, then none");
  scenario = secondsLater(REFETCH_COOLDOWN_MS / 1000, scenario);
  op.set(scenario);
  const before = await snapshot(h);
  await assertRefused(h, await signIn(h), {
    code: "SSO_ID_TOKEN_INVALID",
    check: /signature key not found/,
    before,
  });
  assert.equal(op.calls.jwks, 3, "after the cooldown, one more");
});
