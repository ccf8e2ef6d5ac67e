import assert from "node:assert/strict";
import { test } from "node:test";
import { checkBrowserEndpoint, type EndpointRefusal } from "../../src/domain/browser-endpoints.js";

// Issue 10, item 6: /sso/start redirected to whatever authorization_endpoint a discovery
// document named (a 302 to an arbitrary host).
const cases: [issuer: string, endpoint: string, allowHttp: boolean, expected: EndpointRefusal | undefined][] =
  [
    ["https://acme.okta.com", "https://acme.okta.com/oauth2/v1/authorize", false, undefined],
    ["https://acme.okta.com", "https://login.okta.com/authorize", false, undefined],
    [
      "https://login.microsoftonline.com/x/v2.0",
      "https://login.microsoftonline.com/x/oauth2/v2.0/authorize",
      false,
      undefined,
    ],
    ["https://accounts.google.com", "https://accounts.google.com/o/oauth2/v2/auth", false, undefined],
    ["https://acme.okta.com", "https://evil.example/authorize", false, "other_site"],
    ["https://acme.okta.com", "https://okta.com.evil.example/authorize", false, "other_site"],
    ["https://acme.okta.com", "http://acme.okta.com/authorize", false, "not_https"],
    ["https://acme.okta.com", "javascript:alert(1)", false, "not_https"],
    ["https://acme.okta.com", "https://user@acme.okta.com/authorize", false, "other_site"],
    ["https://acme.okta.com", "not a url", false, "not_a_url"],
    ["http://localhost:3001", "http://localhost:3001/auth", true, undefined],
    ["http://localhost:3001", "http://127.0.0.1:3001/auth", true, "other_site"],
    ["http://localhost:3001", "http://localhost:3001/auth", false, "not_https"],
    ["http://127.0.0.1:3001", "http://127.0.0.2:3001/auth", true, "other_site"],
  ];
for (const [issuer, endpoint, allowHttp, expected] of cases) {
  test(`${endpoint} for ${issuer}${allowHttp ? " (private issuers allowed)" : ""}: ${expected ?? "allowed"}`, () => {
    assert.equal(checkBrowserEndpoint(issuer, endpoint, allowHttp), expected);
  });
}
