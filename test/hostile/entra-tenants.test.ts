/**
 * Issue 10, item 3: Entra ID's multi-tenant issuers accepted any tenant. The hostile provider
 * stands in for Entra ID: it serves under `/common/v2.0` and publishes the `{tenantid}` issuer
 * template, as `https://login.microsoftonline.com/common/v2.0` does, and signs tokens whose
 * `iss` carries the tenant named in `tid`.
 *  - a template issuer without a tenant allow-list is refused at Create (field error), and so
 *    are Microsoft's `/common`, `/organizations` and `/consumers` by their URL;
 *  - a token from a tenant not on the list (an attacker's own, the consumer tenant) is refused;
 *  - Entra's `email` claim without `xms_edov: true` is refused;
 *  - an address from `upn` never links an existing account.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createConnection } from "../../src/connections/create.js";
import { ENTRA_CONSUMER_TENANT } from "../../src/domain/provider-claims.js";
import { isGatehouseError } from "../../src/errors.js";
import type { HostileProvider, Scenario } from "./provider.js";
import { assertRefused, type Harness, signIn, snapshot, startHarness } from "./support.js";

const TENANT = "6f1d3a52-8c4e-4b7a-9d21-3e5f0a7b1c9d";
const ATTACKER_TENANT = "e2a9c8b7-1d3f-4e5a-8b6c-7d8e9f0a1b2c";
const COMMON = { issuerPath: "/common/v2.0" };

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

/** Entra ID's multi-tenant answer: the template in discovery, the tenant's issuer in the token. */
function entra(op: HostileProvider, tid: string, claims: Record<string, unknown> = {}): Scenario {
  const origin = new URL(op.issuer).origin;
  return {
    metadata: {
      issuer: `${origin}/{tenantid}/v2.0`,
      // Entra ID sends no RFC 9207 `iss` parameter.
      authorization_response_iss_parameter_supported: undefined,
    },
    issParameter: "omit",
    claims: { iss: `${origin}/${tid}/v2.0`, tid, xms_edov: true, ...claims },
  };
}

function fieldsOf(error: unknown): Record<string, string> {
  assert.ok(isGatehouseError(error), String(error));
  assert.equal(error.code, "VALIDATION_FAILED");
  return error.fields ?? {};
}

test("a template issuer without a tenant allow-list is refused at Create", async () => {
  await assert.rejects(
    h.provider((op) => entra(op, TENANT), {}, COMMON),
    (error) => /tenant/.test(fieldsOf(error).allowedTenants ?? ""),
  );
  assert.equal(
    await h.gh.ctx.store.db.selectFrom("connections").select("id").executeTakeFirst(),
    undefined,
    "no connection row",
  );
});

test("Microsoft's /common, /organizations and /consumers are refused without an allow-list, before any fetch", async () => {
  for (const segment of ["common", "organizations", "consumers"]) {
    await assert.rejects(
      createConnection(h.gh.ctx, {
        organizationId: h.organizationId,
        input: {
          name: `Entra ${segment}`,
          issuer: `https://login.microsoftonline.com/${segment}/v2.0`,
          clientId: "gatehouse",
          clientSecret: "secret",
          domains: ["acme.test"],
        },
        actorUserId: null,
      }),
      (error) => fieldsOf(error).allowedTenants !== undefined,
      segment,
    );
  }
});

test("a tenant id that is not a GUID is a field error", async () => {
  await assert.rejects(
    h.provider((op) => entra(op, TENANT), { allowedTenants: ["acme.onmicrosoft.com"] }, COMMON),
    (error) => /not a tenant id/.test(fieldsOf(error).allowedTenants ?? ""),
  );
});

test("an allowed tenant with a verified email signs in", async () => {
  await h.provider((op) => entra(op, TENANT), { allowedTenants: [TENANT.toUpperCase()] }, COMMON);
  const { answer, browser } = await signIn(h);
  assert.equal(answer.status, 303, answer.body.slice(0, 300));
  const me = await browser.get(`${h.gh.url}/api/v1/me`);
  assert.equal(JSON.parse(me.body).user.email, "alice@acme.test");
});

test("an ID token from another tenant (the attacker's own) is refused with SSO_TENANT_NOT_ALLOWED", async () => {
  await h.provider((op) => entra(op, ATTACKER_TENANT), { allowedTenants: [TENANT] }, COMMON);
  const before = await snapshot(h);
  await assertRefused(h, await signIn(h), { code: "SSO_TENANT_NOT_ALLOWED", check: /claim "tid"/, before });
});

test("an ID token from the consumer tenant is refused", async () => {
  await h.provider((op) => entra(op, ENTRA_CONSUMER_TENANT), { allowedTenants: [TENANT] }, COMMON);
  const before = await snapshot(h);
  await assertRefused(h, await signIn(h), { code: "SSO_TENANT_NOT_ALLOWED", check: /claim "tid"/, before });
});

test("Entra's email claim without xms_edov is not a verified email", async () => {
  await h.provider((op) => entra(op, TENANT, { xms_edov: undefined }), { allowedTenants: [TENANT] }, COMMON);
  const before = await snapshot(h);
  await assertRefused(h, await signIn(h), {
    code: "SSO_EMAIL_UNVERIFIED",
    check: /claim "xms_edov"/,
    before,
  });
});

test("an address from upn never links an existing account", async () => {
  await h.provider(
    (op) => entra(op, TENANT, { upn: "admin@acme.test", sub: "someone-else" }),
    { allowedTenants: [TENANT], emailClaim: "upn" },
    COMMON,
  );
  const before = await snapshot(h);
  await assertRefused(h, await signIn(h), {
    code: "SSO_EMAIL_UNVERIFIED",
    check: /unverified claim/,
    before,
  });
});

test("an address from upn still signs in a new person", async () => {
  await h.provider(
    (op) => entra(op, TENANT, { upn: "newcomer@acme.test", sub: "newcomer" }),
    { allowedTenants: [TENANT], emailClaim: "upn" },
    COMMON,
  );
  const { answer } = await signIn(h);
  assert.equal(answer.status, 303, answer.body.slice(0, 300));
});
