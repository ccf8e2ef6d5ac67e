import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { tenantAllowListMissing } from "../../src/connections/create.js";
import {
  checkProviderClaims,
  ENTRA_CONSUMER_TENANT,
  GOOGLE_ISSUER,
  normalizeTenantId,
  type ProviderClaimPolicy,
  type ProviderClaims,
  reauthenticationPrompt,
} from "../../src/domain/provider-claims.js";

const TENANT = "6f1d3a52-8c4e-4b7a-9d21-3e5f0a7b1c9d";
const OTHER = "e2a9c8b7-1d3f-4e5a-8b6c-7d8e9f0a1b2c";
const TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0";

const common: ProviderClaimPolicy = {
  issuer: "https://login.microsoftonline.com/common/v2.0",
  issuerTemplate: TEMPLATE,
  allowedTenants: [TENANT],
  emailClaim: "email",
  activeDomains: ["acme.com"],
};
const singleTenant: ProviderClaimPolicy = {
  ...common,
  issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  issuerTemplate: undefined,
  allowedTenants: [],
};
const google: ProviderClaimPolicy = {
  issuer: GOOGLE_ISSUER,
  issuerTemplate: undefined,
  allowedTenants: [],
  emailClaim: "email",
  activeDomains: ["acme.com"],
};
const okta: ProviderClaimPolicy = { ...google, issuer: "https://acme.okta.com" };

describe("checkProviderClaims", () => {
  const cases: [name: string, policy: ProviderClaimPolicy, claims: ProviderClaims, expected: string][] = [
    ["template, allowed tenant, xms_edov", common, { tid: TENANT, xms_edov: true }, "verified"],
    ["template, tenant in capitals", common, { tid: TENANT.toUpperCase(), xms_edov: true }, "verified"],
    ["template, another tenant", common, { tid: OTHER, xms_edov: true }, "SSO_TENANT_NOT_ALLOWED:tid"],
    [
      "template, consumer tenant",
      common,
      { tid: ENTRA_CONSUMER_TENANT, xms_edov: true },
      "SSO_TENANT_NOT_ALLOWED:tid",
    ],
    ["template, no tid", common, { xms_edov: true }, "SSO_TENANT_NOT_ALLOWED:tid"],
    [
      "template, empty allow-list",
      { ...common, allowedTenants: [] },
      { tid: TENANT, xms_edov: true },
      "SSO_TENANT_NOT_ALLOWED:tid",
    ],
    ["template, no xms_edov", common, { tid: TENANT }, "SSO_EMAIL_UNVERIFIED:xms_edov"],
    ["template, xms_edov false", common, { tid: TENANT, xms_edov: false }, "SSO_EMAIL_UNVERIFIED:xms_edov"],
    ["template, upn holds the address", { ...common, emailClaim: "upn" }, { tid: TENANT }, "unverified"],
    ["single tenant, no list, xms_edov", singleTenant, { tid: TENANT, xms_edov: true }, "verified"],
    ["single tenant, email without xms_edov", singleTenant, { tid: TENANT }, "SSO_EMAIL_UNVERIFIED:xms_edov"],
    [
      "single tenant, preferred_username",
      { ...singleTenant, emailClaim: "preferred_username" },
      { tid: TENANT },
      "unverified",
    ],
    [
      "single tenant held to its list",
      { ...singleTenant, allowedTenants: [TENANT] },
      { tid: OTHER, xms_edov: true },
      "SSO_TENANT_NOT_ALLOWED:tid",
    ],
    ["Google, hd a verified domain", google, { hd: "acme.com" }, "verified"],
    ["Google, hd in capitals", google, { hd: "ACME.com" }, "verified"],
    ["Google, hd another domain", google, { hd: "evil.com" }, "SSO_EMAIL_DOMAIN_NOT_ALLOWED:hd"],
    ["Google, consumer account (no hd)", google, {}, "SSO_EMAIL_DOMAIN_NOT_ALLOWED:hd"],
    [
      "Google with a trailing slash",
      { ...google, issuer: `${GOOGLE_ISSUER}/` },
      {},
      "SSO_EMAIL_DOMAIN_NOT_ALLOWED:hd",
    ],
    ["Okta, email", okta, {}, "verified"],
    ["Okta, preferred_username", { ...okta, emailClaim: "preferred_username" }, {}, "unverified"],
    ["any provider sending tid is held to xms_edov", okta, { tid: TENANT }, "SSO_EMAIL_UNVERIFIED:xms_edov"],
  ];
  for (const [name, policy, claims, expected] of cases) {
    test(name, () => {
      const result = checkProviderClaims(policy, claims);
      const outcome = result.ok
        ? result.emailVerified
          ? "verified"
          : "unverified"
        : `${result.code}:${result.check}`;
      assert.equal(outcome, expected);
    });
  }
});

describe("reauthenticationPrompt", () => {
  test("login, OIDC Core's; select_account at Google, which does not support login", () => {
    assert.equal(reauthenticationPrompt("https://acme.okta.com"), "login");
    assert.equal(reauthenticationPrompt("https://login.microsoftonline.com/tid/v2.0"), "login");
    assert.equal(reauthenticationPrompt(GOOGLE_ISSUER), "select_account");
    assert.equal(reauthenticationPrompt(`${GOOGLE_ISSUER}/`), "select_account");
    assert.equal(reauthenticationPrompt("https://accounts.google.com.evil.test"), "login");
  });
});

describe("normalizeTenantId", () => {
  test("GUIDs only, lower-cased", () => {
    assert.equal(normalizeTenantId(` ${TENANT.toUpperCase()} `), TENANT);
    assert.equal(normalizeTenantId("acme.onmicrosoft.com"), undefined);
    assert.equal(normalizeTenantId("common"), undefined);
    assert.equal(normalizeTenantId(`${TENANT}0`), undefined);
  });
});

describe("tenantAllowListMissing", () => {
  const cases: [issuer: string, template: string | null, tenants: string[], missing: boolean][] = [
    ["https://login.microsoftonline.com/common/v2.0", null, [], true],
    ["https://login.microsoftonline.com/organizations/v2.0", null, [], true],
    ["https://login.microsoftonline.com/consumers/v2.0", null, [], true],
    ["https://login.microsoftonline.com/Common/v2.0", null, [], true],
    ["https://login.microsoftonline.com/common/v2.0", null, [TENANT], false],
    [`https://login.microsoftonline.com/${TENANT}/v2.0`, null, [], false],
    ["http://localhost:3001/common/v2.0", "http://localhost:3001/{tenantid}/v2.0", [], true],
    ["https://acme.okta.com", null, [], false],
  ];
  for (const [issuer, template, tenants, missing] of cases) {
    test(`${issuer} ${template ?? ""} [${tenants.length}]`, () => {
      assert.equal(tenantAllowListMissing(issuer, template, tenants) !== undefined, missing);
    });
  }
});
