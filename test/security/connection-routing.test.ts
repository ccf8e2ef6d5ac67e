/**
 * Issue 10, item 6: `/sso/start` redirected to whatever `authorization_endpoint` the discovery
 * document named, and answered unknown names before the rate limit, so names and domains could
 * be enumerated freely.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Harness, startHarness } from "../hostile/support.js";
import { Browser } from "../support/browserless.js";

let h: Harness;
before(async () => {
  h = await startHarness({ GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "5" });
});
after(async () => {
  await h.close();
});

function fieldsOf(error: unknown): Record<string, string> {
  return (error as { fields?: Record<string, string> }).fields ?? {};
}

test("a discovery document whose authorization_endpoint is another site is refused at Create", async () => {
  await assert.rejects(
    h.provider({ metadata: { authorization_endpoint: "http://evil.test/authorize" } }),
    (error) => /authorization_endpoint is not on the issuer's own site/.test(fieldsOf(error).issuer ?? ""),
  );
});

test("a discovery document whose end_session_endpoint is another site is refused at Create", async () => {
  await assert.rejects(
    h.provider({ metadata: { end_session_endpoint: "http://127.0.0.1:1/logout" } }),
    (error) => /end_session_endpoint is not on the issuer's own site/.test(fieldsOf(error).issuer ?? ""),
  );
});

test("a discovery document that changes its authorization_endpoint later sends no browser there", async () => {
  const op = await h.provider();
  op.set({ metadata: { authorization_endpoint: "http://evil.test/authorize" } });
  const { forgetIssuer } = await import("../../src/sso/oidc/discover.js");
  forgetIssuer(op.issuer); // as when the cached document expires
  const browser = new Browser();
  const answer = await browser.get(`${h.gh.url}/sso/start?email=alice@acme.test`);
  assert.ok(!answer.location?.startsWith("http://evil.test"), `redirected to ${answer.location}`);
  assert.ok(answer.status >= 400, `status ${answer.status}`);
  await h.disconnect();
});

test("unknown and known names answer alike, and lookups are rate limited before any lookup", async () => {
  await h.provider();
  const browser = new Browser();
  const unknown = await browser.get(`${h.gh.url}/sso/start?organization=acme&connection=No%20Such%20Name`);
  assert.equal(unknown.status, 404);
  // The fifth lookup of the minute is the last one answered; the sixth is refused before the
  // name is looked up, whether it exists or not.
  for (let i = 0; i < 3; i++) await browser.get(`${h.gh.url}/sso/start?organization=other-${i}`);
  const known = await browser.get(`${h.gh.url}/sso/start?organization=acme&connection=Hostile%20OP`);
  const unknownAfter = await browser.get(
    `${h.gh.url}/sso/start?organization=acme&connection=No%20Such%20Name`,
  );
  assert.equal(known.status, 429);
  assert.equal(unknownAfter.status, 429);
  assert.equal(
    known.body.replaceAll(/[0-9a-f-]{36}|\d+ s/g, ""),
    unknownAfter.body.replaceAll(/[0-9a-f-]{36}|\d+ s/g, ""),
  );
});
