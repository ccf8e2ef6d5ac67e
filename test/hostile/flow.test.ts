/**
 * The authorization response and the flow around it. None may produce a session.
 *  - `state` missing, different, replayed (with a fresh code for the used state)
 *  - the authorization code replayed (the provider accepts it twice; Gatehouse refuses first)
 *  - a code injected into another browser's flow: PKCE stops it, and when the provider ignores
 *    PKCE, the nonce does
 *  - `error=access_denied` and the other RFC 6749 4.1.2.1 codes, with and without `state`
 *  - RFC 9207 `iss` different from the issuer; missing while the metadata advertises it
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Browser } from "../support/browserless.js";
import { MARKER } from "./provider.js";
import {
  assertRefused,
  assertSignedIn,
  authorize,
  type Harness,
  signIn,
  snapshot,
  startHarness,
} from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe("state", () => {
  test("a response without state is refused", async () => {
    await h.provider({ state: "omit" });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_STATE_MISSING",
      check: /state/,
      before,
      inOrganizationLog: false,
    });
  });

  test("a different state is refused", async () => {
    await h.provider({ state: `forged-${MARKER}` });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_STATE_UNKNOWN",
      check: /state/,
      before,
      inOrganizationLog: false,
    });
  });

  test("a used state is refused with a fresh code, before any token request", async () => {
    const op = await h.provider();
    const victim = new Browser();
    const { authorizeUrl, callbackUrl } = await authorize(h, victim);
    await assertSignedIn(h, { browser: victim, callbackUrl, answer: await victim.get(callbackUrl) });
    // The same authorization request again: the provider hands out a new code for the old state.
    const again = await victim.get(authorizeUrl);
    const replay = new URL(again.location ?? "");
    assert.notEqual(replay.searchParams.get("code"), new URL(callbackUrl).searchParams.get("code"));
    const tokenCalls = op.calls.token;
    const before = await snapshot(h);
    const attacker = new Browser();
    await assertRefused(
      h,
      { browser: attacker, answer: await attacker.get(replay.toString()) },
      { code: "SSO_STATE_REPLAYED", check: /state already used/, failedCheck: "state", before },
    );
    assert.equal(op.calls.token, tokenCalls, "no token request for a used state");
  });
});

describe("authorization code", () => {
  test("a replayed code is refused by Gatehouse though the provider would redeem it again", async () => {
    const op = await h.provider({ allowCodeReuse: true });
    const victim = new Browser();
    const first = await signIn(h, victim);
    await assertSignedIn(h, first);
    const before = await snapshot(h);
    const attacker = new Browser();
    await assertRefused(
      h,
      { browser: attacker, answer: await attacker.get(first.callbackUrl) },
      { code: "SSO_STATE_REPLAYED", check: /state already used/, failedCheck: "state", before },
    );
    assert.equal(op.calls.token, 1, "the code was redeemed once");
  });

  test("every sign-in sends its own state, nonce and S256 challenge: 32 random bytes each", async () => {
    await h.provider({});
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { authorizeUrl } = await authorize(h, new Browser());
      const query = new URL(authorizeUrl).searchParams;
      assert.equal(query.get("code_challenge_method"), "S256");
      for (const name of ["state", "nonce", "code_challenge"]) {
        const value = query.get(name) ?? "";
        // base64url of 32 bytes (the challenge: of a SHA-256), no padding.
        assert.match(value, /^[A-Za-z0-9_-]{43}$/, `${name}: ${value}`);
        assert.ok(!seen.has(value), `${name} repeated`);
        seen.add(value);
      }
    }
  });

  test("a victim's code injected into the attacker's own flow is refused: PKCE", async () => {
    await h.provider();
    const victim = await authorize(h, new Browser());
    const attacker = new Browser();
    const own = new URL((await authorize(h, attacker)).callbackUrl);
    own.searchParams.set("code", new URL(victim.callbackUrl).searchParams.get("code") ?? "");
    const before = await snapshot(h);
    await assertRefused(
      h,
      { browser: attacker, answer: await attacker.get(own.toString()) },
      { code: "SSO_TOKEN_REQUEST_FAILED", check: /invalid_grant/, failedCheck: "token_request", before },
    );
  });

  test("a victim's code injected into the attacker's own flow is refused: the nonce, when the provider ignores PKCE", async () => {
    await h.provider({ ignorePkce: true });
    const victim = await authorize(h, new Browser());
    const attacker = new Browser();
    const own = new URL((await authorize(h, attacker)).callbackUrl);
    own.searchParams.set("code", new URL(victim.callbackUrl).searchParams.get("code") ?? "");
    const before = await snapshot(h);
    await assertRefused(
      h,
      { browser: attacker, answer: await attacker.get(own.toString()) },
      { code: "SSO_ID_TOKEN_INVALID", check: /claim "nonce"/, failedCheck: "nonce", before },
    );
  });
});

describe("error responses (RFC 6749 4.1.2.1)", () => {
  // What the page tells the person: the client, the code flow and the scopes are the
  // connection's to fix; the rest may pass when they try again.
  const codes = {
    access_denied: "retry",
    invalid_request: "retry",
    unauthorized_client: "administrator",
    unsupported_response_type: "administrator",
    invalid_scope: "administrator",
    server_error: "retry",
    temporarily_unavailable: "retry",
  } as const;
  for (const [error, remedy] of Object.entries(codes)) {
    test(`error=${error} is a human message, not a session; trying again ${remedy === "retry" ? "may help" : "will not help"}`, async () => {
      await h.provider({ authorizeError: { error, error_description: `Denied ${MARKER}` } });
      const before = await snapshot(h);
      const attempt = await signIn(h);
      await assertRefused(h, attempt, {
        code: "SSO_IDP_ERROR",
        check: new RegExp(`error=${error}`),
        before,
        remedy,
      });
      assert.match(attempt.answer.body, /<h1>[^<]+<\/h1>/, "a titled page");
      assert.doesNotMatch(attempt.answer.body, /Denied/, "the provider's description is the admin's only");
    });
  }

  test("an error without state is refused the same way", async () => {
    await h.provider({
      authorizeError: { error: "access_denied", error_description: MARKER },
      state: "omit",
    });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_IDP_ERROR",
      check: /error=access_denied/,
      before,
      inOrganizationLog: false,
    });
  });
});

describe("RFC 9207 iss parameter", () => {
  test("an iss parameter other than the issuer is refused", async () => {
    await h.provider({ issParameter: `http://evil.test/${MARKER}` });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), { code: "SSO_RESPONSE_ISS_MISMATCH", check: /RFC 9207/, before });
  });

  test("a missing iss parameter is refused when the metadata advertises it", async () => {
    await h.provider({ issParameter: "omit" });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_RESPONSE_ISS_MISMATCH",
      check: /RFC 9207.*"iss" \(issuer\) missing/,
      before,
    });
  });
});
