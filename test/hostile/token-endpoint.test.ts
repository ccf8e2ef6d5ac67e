/**
 * The token endpoint misbehaving after a valid authorization response. None may produce a
 * session. Gatehouse runs with GATEHOUSE_IDP_TIMEOUT_MS=1000 so the slow answer costs a second.
 *  - a token response without `id_token`
 *  - HTTP 400 `invalid_grant` (with markup in error_description)
 *  - HTTP 500
 *  - HTML instead of JSON
 *  - an answer slower than the timeout
 *  - a body larger than the 512 KiB cap, streamed, and declared in Content-Length
 *  - a redirect (to a metadata address), which Gatehouse does not follow
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import type { Scenario } from "./provider.js";
import { assertRefused, type Harness, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness({ GATEHOUSE_IDP_TIMEOUT_MS: "1000" });
});
after(async () => {
  await h.close();
});

async function refused(scenario: Scenario, code: ErrorCode, check: RegExp): Promise<void> {
  const op = await h.provider(scenario);
  const before = await snapshot(h);
  await assertRefused(h, await signIn(h), { code, check, before });
  assert.equal(op.calls.token, 1);
}

describe("token endpoint", () => {
  test("a token response without id_token is refused", async () => {
    await refused({ tokenAnswer: "no-id-token" }, "SSO_ID_TOKEN_INVALID", /id_token/);
  });

  test("HTTP 400 invalid_grant is refused", async () => {
    await refused(
      { tokenAnswer: "invalid-grant" },
      "SSO_TOKEN_REQUEST_FAILED",
      /HTTP 400 error=invalid_grant/,
    );
  });

  test("HTTP 500 is refused", async () => {
    await refused({ tokenAnswer: "server-error" }, "SSO_TOKEN_REQUEST_FAILED", /HTTP status 500/);
  });

  test("HTML instead of JSON is refused", async () => {
    await refused({ tokenAnswer: "html" }, "SSO_TOKEN_REQUEST_FAILED", /other than JSON/);
  });

  test("an answer slower than the timeout is refused after the timeout", async () => {
    const started = Date.now();
    await refused({ tokenDelayMs: 2500 }, "SSO_OUTBOUND_FAILED", /did not answer within 1 seconds/);
    assert.ok(Date.now() - started < 2400, `took ${Date.now() - started} ms`);
  });

  test("a streamed body past the 512 KiB cap is refused", async () => {
    await refused({ tokenAnswer: "huge" }, "SSO_OUTBOUND_FAILED", /exceeded 524288 bytes/);
  });

  test("a declared Content-Length past the 512 KiB cap is refused", async () => {
    await refused({ tokenAnswer: "huge-declared" }, "SSO_OUTBOUND_FAILED", /exceeded 524288 bytes/);
  });

  test("a redirect is not followed", async () => {
    await refused({ tokenAnswer: "redirect" }, "SSO_OUTBOUND_FAILED", /redirect/);
  });
});
