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
 *  - HTTP 401 `invalid_client`: a client secret regenerated at the provider
 * The person's page tells them whether trying again can help: not when the provider refuses
 * the client, until the administrator fixes the connection; yes when the provider failed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ERRORS, LOCKED_OUT_HINT } from "../../src/error-registry.js";
import type { ErrorCode } from "../../src/errors.js";
import { errorRemedy } from "../support/browserless.js";
import type { Scenario } from "./provider.js";
import { assertRefused, type Harness, type Refusal, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness({ GATEHOUSE_IDP_TIMEOUT_MS: "1000" });
});
after(async () => {
  await h.close();
});

async function refused(
  scenario: Scenario,
  code: ErrorCode,
  check: RegExp,
  remedy?: Refusal["remedy"],
): Promise<string> {
  const op = await h.provider(scenario);
  const before = await snapshot(h);
  const attempt = await signIn(h);
  await assertRefused(h, attempt, { code, check, before, remedy });
  assert.equal(op.calls.token, 1);
  return attempt.answer.body;
}

/** The page's words, as a person reads them: the registry's, with apostrophes escaped. */
const shown = (text: string) => text.replace(/'/g, "&#39;");

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

  test("HTTP 500 is refused, and the person is told to try again", async () => {
    const page = await refused(
      { tokenAnswer: "server-error" },
      "SSO_TOKEN_REQUEST_FAILED",
      /HTTP status 500/,
      "retry",
    );
    assert.ok(page.includes(shown(ERRORS.SSO_TOKEN_REQUEST_FAILED.action)), "the retry words");
    assert.doesNotMatch(page, /will not help/);
    assert.ok(!page.includes(shown(LOCKED_OUT_HINT)));
  });

  test("a client secret regenerated at the provider: trying again will not help until the administrator fixes the connection", async () => {
    const op = await h.provider();
    op.clientSecret = "regenerated-at-the-provider-0123456789";
    const before = await snapshot(h);
    const attempt = await signIn(h);
    await assertRefused(h, attempt, {
      code: "SSO_TOKEN_REQUEST_FAILED",
      check: /refused Gatehouse's client ID or secret.*HTTP 401/,
      failedCheck: "token_request",
      before,
      remedy: "administrator",
    });
    const page = attempt.answer.body;
    assert.ok(
      page.includes(shown(ERRORS.SSO_TOKEN_REQUEST_FAILED.administratorAction ?? "(none)")),
      "the administrator's words",
    );
    assert.ok(page.includes(shown(LOCKED_OUT_HINT)), "the way back in when everybody is locked out");
    assert.doesNotMatch(page, /Try again|Start signing in again/);
    // The admin reads the provider's answer in the sign-in activity; the person does not.
    assert.doesNotMatch(page, /invalid_client|401|client secret/i);
    // A second attempt is refused the same way: the page was right.
    const again = await signIn(h);
    assert.equal(errorRemedy(again.answer.body), "administrator");
  });

  test("HTML instead of JSON is refused", async () => {
    await refused({ tokenAnswer: "html" }, "SSO_TOKEN_REQUEST_FAILED", /other than JSON/);
  });

  test("an answer slower than the timeout is refused after the timeout, and the person is told to try again", async () => {
    const started = Date.now();
    const page = await refused(
      { tokenDelayMs: 2500 },
      "SSO_OUTBOUND_FAILED",
      /did not answer within 1 seconds/,
      "retry",
    );
    assert.match(page, /Try again/);
    assert.doesNotMatch(page, /will not help/);
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
