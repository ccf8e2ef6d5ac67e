/**
 * Userinfo, discovery and the JWKS endpoint.
 *  - userinfo `sub` different from the ID token's (the ID token has no email, so userinfo is
 *    called): refused
 *  - a discovery document whose `issuer` differs from the URL entered (another host, or only a
 *    trailing slash): the connection is not created, SSO_ISSUER_MISMATCH
 *  - the JWKS endpoint down during sign-in (HTTP 503, a dropped connection): SSO_OUTBOUND_FAILED
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createConnection } from "../../src/connections/create.js";
import { isGatehouseError } from "../../src/errors.js";
import { MARKER, startHostileProvider } from "./provider.js";
import { assertRefused, type Harness, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe("userinfo", () => {
  test("a userinfo sub other than the ID token's is refused", async () => {
    const op = await h.provider({ profileInIdToken: false, userinfo: { sub: `someone-else-${MARKER}` } });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), {
      code: "SSO_USERINFO_INVALID",
      check: /userinfo.*"sub"/,
      before,
    });
    assert.equal(op.calls.userinfo, 1);
  });
});

describe("discovery", () => {
  for (const [name, published] of [
    ["another host", "http://evil.test"],
    ["a trailing slash", undefined],
  ] as const) {
    test(`a discovery document naming ${name} as its issuer is refused at creation`, async () => {
      await h.disconnect();
      const op = await startHostileProvider({ redirectUri: `${h.gh.url}/sso/oidc/callback` });
      try {
        op.set({ metadata: { issuer: published ?? `${op.issuer}/` } });
        const connectionsBefore = await h.gh.ctx.store.db.selectFrom("connections").select("id").execute();
        await assert.rejects(
          createConnection(h.gh.ctx, {
            organizationId: h.organizationId,
            input: {
              name: "Hostile OP",
              issuer: op.issuer,
              clientId: op.clientId,
              clientSecret: op.clientSecret,
              domains: ["acme.test"],
            },
            actorUserId: null,
          }),
          (error: unknown) => {
            assert.ok(isGatehouseError(error));
            assert.equal(error.code, "SSO_ISSUER_MISMATCH");
            assert.ok(error.fields?.issuer, "the message names the issuer field");
            return true;
          },
        );
        const connectionsAfter = await h.gh.ctx.store.db.selectFrom("connections").select("id").execute();
        assert.equal(connectionsAfter.length, connectionsBefore.length, "no connection created");
        assert.equal(op.calls.discovery, 1);
      } finally {
        await op.close();
      }
    });
  }
});

describe("JWKS endpoint down during sign-in", () => {
  test("HTTP 503 from the JWKS endpoint is an outbound failure, not a session", async () => {
    await h.provider({ jwksDown: "503" });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), { code: "SSO_OUTBOUND_FAILED", check: /JWKS.*503/, before });
  });

  test("a dropped connection at the JWKS endpoint is an outbound failure, not a session", async () => {
    await h.provider({ jwksDown: "reset" });
    const before = await snapshot(h);
    await assertRefused(h, await signIn(h), { code: "SSO_OUTBOUND_FAILED", check: /JWKS.*\/jwks/, before });
  });
});
