/**
 * ID token claims that break OIDC Core 3.1.3.7 or Gatehouse's stricter rules, each in a token
 * that is otherwise honest and correctly signed. None may produce a session.
 *  - `iss` different, `iss` missing
 *  - `aud` without the client id; `aud` = [client id, other] without `azp` and with `azp`
 *  - `azp` present and wrong (single audience)
 *  - `exp` past beyond the 60 s skew, `exp` missing
 *  - `iat` missing, `iat` in the future beyond the skew, `iat` more than 10 minutes ago
 *  - `nbf` in the future beyond the skew
 *  - `nonce` missing, `nonce` different
 *  - `sub` missing
 *  - `at_hash` present and wrong
 */
import { after, before, describe, test } from "node:test";
import { MARKER, type Scenario } from "./provider.js";
import { assertRefused, type Harness, type Refusal, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const now = () => Math.floor(Date.now() / 1000);

/** `remedy`: what the page tells the person (src/error-remedy.ts), when the test pins it. */
async function refused(scenario: Scenario, check: RegExp, remedy?: Refusal["remedy"]): Promise<void> {
  await h.provider(scenario);
  const before = await snapshot(h);
  await assertRefused(h, await signIn(h), { code: "SSO_ID_TOKEN_INVALID", check, before, remedy });
}

describe("issuer", () => {
  test("an iss other than the connection's issuer is refused, until the administrator fixes the connection", async () => {
    await refused({ claims: { iss: `http://evil.test/${MARKER}` } }, /claim "iss"/, "administrator");
  });

  test("a missing iss is refused", async () => {
    await refused({ claims: { iss: undefined } }, /"iss"/);
  });
});

describe("audience and authorized party", () => {
  test("an aud without the client id is refused, until the administrator fixes the connection", async () => {
    await refused({ claims: { aud: "another-client" } }, /claim "aud"/, "administrator");
  });

  test("aud = [client id, other] without azp is refused", async () => {
    const op = await h.provider();
    op.set({ claims: { aud: [op.clientId, "another-client"] } });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /claim "aud"/,
      failedCheck: "aud",
      before,
    });
  });

  test("aud = [client id, other] is refused even with azp = client id", async () => {
    const op = await h.provider();
    op.set({ claims: { aud: [op.clientId, "another-client"], azp: op.clientId } });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_ID_TOKEN_INVALID",
      check: /claim "aud"/,
      failedCheck: "aud",
      before,
    });
  });

  test("an azp other than the client id is refused, even with a single audience", async () => {
    await refused({ claims: { azp: "another-client" } }, /claim "azp"/);
  });
});

describe("time", () => {
  test("an exp 2 minutes in the past (beyond the 60 s skew) is refused; trying again may help", async () => {
    await refused({ claims: { iat: now() - 300, exp: now() - 120 } }, /claim "exp"/, "retry");
  });

  test("a missing exp is refused", async () => {
    await refused({ claims: { exp: undefined } }, /"exp"/);
  });

  test("a missing iat is refused", async () => {
    await refused({ claims: { iat: undefined } }, /"iat"/);
  });

  test("an iat 5 minutes in the future (beyond the skew) is refused", async () => {
    await refused({ claims: { iat: now() + 300, exp: now() + 600 } }, /claim "iat"/);
  });

  test("an iat 12 minutes ago (older than 10 minutes plus skew) is refused, though exp is still ahead", async () => {
    await refused({ claims: { iat: now() - 12 * 60, exp: now() + 300 } }, /claim "iat"/);
  });

  test("an nbf 5 minutes in the future is refused", async () => {
    await refused({ claims: { nbf: now() + 300 } }, /claim "nbf"/);
  });
});

describe("nonce, subject, at_hash", () => {
  test("a missing nonce is refused", async () => {
    await refused({ claims: { nonce: undefined } }, /claim "nonce"/);
  });

  test("a different nonce is refused; trying again may help", async () => {
    await refused({ claims: { nonce: `replayed-${MARKER}` } }, /claim "nonce"/, "retry");
  });

  test("a missing sub is refused", async () => {
    await refused({ claims: { sub: undefined } }, /"sub"/);
  });

  test("a wrong at_hash is refused", async () => {
    await refused({ claims: { at_hash: "AAAAAAAAAAAAAAAAAAAAAA" } }, /claim "at_hash"/);
  });
});
