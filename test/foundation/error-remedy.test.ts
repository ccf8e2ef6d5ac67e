import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ERRORS, type ErrorCode, errorSpec, LOCKED_OUT_HINT, type Remedy } from "../../src/error-registry.js";
import { type RefusalFacts, remedyOf } from "../../src/error-remedy.js";
import { GatehouseError } from "../../src/errors.js";
import { errorBody } from "../../src/server/error-response.js";
import { errorPage } from "../../src/web/error-page.js";

const codes = Object.keys(ERRORS) as ErrorCode[];

/**
 * Every refusal of a single sign-on, and what its code alone says. `depends`: the code covers
 * both kinds, and the cases below decide.
 */
const SIGN_IN_REFUSALS: Record<string, Remedy | "depends"> = {
  AUTH_RATE_LIMITED: "retry",
  CONNECTION_DISABLED: "retry",
  SSO_NO_CONNECTION: "retry",
  SSO_DISCOVERY_FAILED: "depends",
  SSO_ISSUER_MISMATCH: "administrator",
  SSO_ISSUER_NOT_ALLOWED: "administrator",
  SSO_OUTBOUND_FAILED: "retry",
  SSO_STATE_MISSING: "retry",
  SSO_STATE_UNKNOWN: "retry",
  SSO_STATE_REPLAYED: "retry",
  SSO_STATE_EXPIRED: "retry",
  SSO_BROWSER_MISMATCH: "retry",
  SSO_IDP_ERROR: "depends",
  SSO_RESPONSE_ISS_MISMATCH: "administrator",
  SSO_TOKEN_REQUEST_FAILED: "depends",
  SSO_ID_TOKEN_INVALID: "depends",
  SSO_SAML_RESPONSE_INVALID: "depends",
  SSO_USERINFO_INVALID: "retry",
  SSO_EMAIL_MISSING: "administrator",
  SSO_EMAIL_UNVERIFIED: "depends",
  // Most often another account still signed in at the provider: the person can switch.
  SSO_EMAIL_DOMAIN_NOT_ALLOWED: "retry",
  SSO_TENANT_NOT_ALLOWED: "retry",
  SSO_USER_CONFLICT: "administrator",
  SERVICE_UNAVAILABLE: "retry",
  INTERNAL: "retry",
};

/**
 * Codes a sign-in can end with that have no remedy, and why. Their pages keep their own words
 * and their JSON has no `retryable`.
 */
const WITHOUT_REMEDY: Partial<Record<ErrorCode, string>> = {
  CONNECTION_NOT_FOUND: "also the API's 404 for an unknown id, where trying again never helps",
  SSO_LOGOUT_STATE_MISSING: "a sign-out, not a sign-in",
  SSO_LOGOUT_STATE_MISMATCH: "a sign-out, not a sign-in",
  LINKEDIN_NOT_CONFIGURED: "the operator's deployment, and the page offers another way in",
};

const refusal = (code: ErrorCode, facts: Omit<RefusalFacts, "code"> = {}): RefusalFacts => ({
  code,
  ...facts,
});

describe("the remedy of each code", () => {
  test("every single sign-on refusal in the registry declares its remedy, and nothing else does", () => {
    const declared = Object.fromEntries(
      codes.flatMap((code) => {
        const remedy = errorSpec(code).remedy;
        return remedy ? [[code, remedy]] : [];
      }),
    );
    assert.deepEqual(declared, SIGN_IN_REFUSALS);
    for (const code of codes.filter((c) => c.startsWith("SSO_"))) {
      assert.ok(code in SIGN_IN_REFUSALS || code in WITHOUT_REMEDY, `${code}: no remedy`);
    }
  });

  for (const [code, remedy] of Object.entries(SIGN_IN_REFUSALS) as [ErrorCode, Remedy | "depends"][]) {
    test(`${code} without details: ${remedy === "depends" ? "retry, until the details say otherwise" : remedy}`, () => {
      assert.equal(remedyOf(refusal(code)), remedy === "depends" ? "retry" : remedy);
    });
  }

  test("codes that are no sign-in's have no remedy", () => {
    for (const code of codes.filter((c) => !(c in SIGN_IN_REFUSALS))) {
      assert.equal(remedyOf(refusal(code)), undefined, code);
    }
  });
});

describe("the token endpoint's answer decides SSO_TOKEN_REQUEST_FAILED (RFC 6749 5.2)", () => {
  const cases: [string, RefusalFacts["providerAnswer"], Remedy][] = [
    ["invalid_client (a wrong or expired secret)", { error: "invalid_client", status: 400 }, "administrator"],
    ["invalid_client with 401", { error: "invalid_client", status: 401 }, "administrator"],
    ["unauthorized_client", { error: "unauthorized_client", status: 400 }, "administrator"],
    ["unsupported_grant_type", { error: "unsupported_grant_type", status: 400 }, "administrator"],
    ["invalid_scope", { error: "invalid_scope", status: 400 }, "administrator"],
    ["HTTP 401 with a challenge and no error", { status: 401 }, "administrator"],
    ["HTTP 401 with an unknown error", { error: "nope", status: 401 }, "administrator"],
    ["invalid_grant (a code expired or used)", { error: "invalid_grant", status: 400 }, "retry"],
    ["invalid_request", { error: "invalid_request", status: 400 }, "retry"],
    ["temporarily_unavailable", { error: "temporarily_unavailable", status: 400 }, "retry"],
    ["server_error", { error: "server_error", status: 400 }, "retry"],
    ["server_error with 401", { error: "server_error", status: 401 }, "retry"],
    ["HTTP 500", { status: 500 }, "retry"],
    ["HTTP 502", { status: 502 }, "retry"],
    ["HTTP 503", { status: 503 }, "retry"],
    ["HTTP 403", { status: 403 }, "retry"],
    ["HTTP 429", { status: 429 }, "retry"],
    ["HTML instead of JSON", undefined, "retry"],
    ["an unknown error code", { error: "something_new", status: 400 }, "retry"],
    ["an error code in another case", { error: "INVALID_CLIENT", status: 400 }, "retry"],
  ];
  for (const [name, providerAnswer, expected] of cases) {
    test(`${name}: ${expected}`, () => {
      assert.equal(remedyOf(refusal("SSO_TOKEN_REQUEST_FAILED", { providerAnswer })), expected);
    });
  }
});

describe("the authorization response's error decides SSO_IDP_ERROR (RFC 6749 4.1.2.1)", () => {
  const cases: [string, Remedy][] = [
    ["invalid_client", "administrator"],
    ["unauthorized_client", "administrator"],
    ["unsupported_response_type", "administrator"],
    ["invalid_scope", "administrator"],
    ["access_denied", "retry"],
    ["invalid_request", "retry"],
    ["server_error", "retry"],
    ["temporarily_unavailable", "retry"],
    ["login_required", "retry"],
    ["interaction_required", "retry"],
    ["consent_required", "retry"],
  ];
  for (const [error, expected] of cases) {
    test(`error=${error}: ${expected}`, () => {
      assert.equal(remedyOf(refusal("SSO_IDP_ERROR", { providerAnswer: { error } })), expected);
    });
  }
});

describe("the failed check decides the token and assertion checks", () => {
  const cases: [ErrorCode, string, Remedy][] = [
    ["SSO_ID_TOKEN_INVALID", "iss", "administrator"],
    ["SSO_ID_TOKEN_INVALID", "aud", "administrator"],
    ["SSO_ID_TOKEN_INVALID", "azp", "administrator"],
    ["SSO_ID_TOKEN_INVALID", "signature", "administrator"],
    ["SSO_ID_TOKEN_INVALID", "nonce", "retry"],
    ["SSO_ID_TOKEN_INVALID", "exp", "retry"],
    ["SSO_ID_TOKEN_INVALID", "iat", "retry"],
    ["SSO_ID_TOKEN_INVALID", "at_hash", "retry"],
    ["SSO_ID_TOKEN_INVALID", "sub", "retry"],
    ["SSO_ID_TOKEN_INVALID", "token_request", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "signature", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "signature-algorithm", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "issuer", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "audience", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "destination", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "recipient", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "subject-confirmation", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "encryption-algorithm", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "decryption", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "subject", "administrator"],
    ["SSO_SAML_RESPONSE_INVALID", "status", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "not-before", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "not-on-or-after", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "in-response-to", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "replay", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "unsolicited", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "message-size", "retry"],
    ["SSO_SAML_RESPONSE_INVALID", "xml-well-formed", "retry"],
    ["SSO_EMAIL_UNVERIFIED", "email_verified", "retry"],
    ["SSO_EMAIL_UNVERIFIED", "account", "administrator"],
  ];
  for (const [code, check, expected] of cases) {
    test(`${code}, check ${check}: ${expected}`, () => {
      assert.equal(remedyOf(refusal(code, { check: { check } })), expected);
    });
  }

  test("a check of one code does not decide another's", () => {
    // "signature" is the connection's for an ID token; for an IdP error it means nothing.
    assert.equal(remedyOf(refusal("SSO_IDP_ERROR", { check: { check: "signature" } })), "retry");
    assert.equal(remedyOf(refusal("SSO_OUTBOUND_FAILED", { check: { check: "signature" } })), "retry");
    assert.equal(
      remedyOf(
        refusal("SSO_TOKEN_REQUEST_FAILED", { check: { check: "aud" }, providerAnswer: { status: 500 } }),
      ),
      "retry",
    );
  });

  test("an answer does not overrule a code's own remedy", () => {
    assert.equal(
      remedyOf(refusal("SSO_OUTBOUND_FAILED", { providerAnswer: { error: "invalid_client", status: 401 } })),
      "retry",
    );
    assert.equal(
      remedyOf(refusal("SSO_EMAIL_MISSING", { providerAnswer: { error: "temporarily_unavailable" } })),
      "administrator",
    );
  });
});

describe("the discovery document's answer decides SSO_DISCOVERY_FAILED", () => {
  const cases: [number | undefined, Remedy][] = [
    [404, "administrator"],
    [410, "administrator"],
    [403, "administrator"],
    [401, "administrator"],
    [408, "retry"],
    [429, "retry"],
    [500, "retry"],
    [503, "retry"],
    [undefined, "retry"],
  ];
  for (const [status, expected] of cases) {
    test(`HTTP ${status ?? "none (unreachable, not JSON)"}: ${expected}`, () => {
      const providerAnswer = status === undefined ? undefined : { status };
      assert.equal(remedyOf(refusal("SSO_DISCOVERY_FAILED", { providerAnswer })), expected);
    });
  }
});

describe("what the person reads", () => {
  /** Every code and detail that can come out as `administrator`. */
  const administratorCases: RefusalFacts[] = [
    ...Object.entries(SIGN_IN_REFUSALS)
      .filter(([, r]) => r === "administrator")
      .map(([code]) => refusal(code as ErrorCode)),
    refusal("SSO_TOKEN_REQUEST_FAILED", { providerAnswer: { error: "invalid_client", status: 401 } }),
    refusal("SSO_IDP_ERROR", { providerAnswer: { error: "unauthorized_client" } }),
    refusal("SSO_ID_TOKEN_INVALID", { check: { check: "aud" } }),
    refusal("SSO_SAML_RESPONSE_INVALID", { check: { check: "signature" } }),
    refusal("SSO_EMAIL_UNVERIFIED", { check: { check: "account" } }),
    refusal("SSO_DISCOVERY_FAILED", { providerAnswer: { status: 404 } }),
  ];

  for (const facts of administratorCases) {
    test(`${facts.code} (${JSON.stringify({ ...facts, code: undefined })}): trying again will not help, the code goes to the administrator`, () => {
      const remedy = remedyOf(facts);
      assert.equal(remedy, "administrator");
      const page = errorPage({ code: facts.code, remedy, traceId: "ref-123" });
      assert.match(page, /data-remedy="administrator"/);
      const action = /data-testid="error-action">([^<]*)</.exec(page)?.[1] ?? "";
      assert.match(action, /Trying again will not help until your administrator/);
      assert.doesNotMatch(action, /\bTry again\b/);
      assert.ok(
        page.includes(LOCKED_OUT_HINT.replace(/'/g, "&#39;")),
        "the locked-out administrator's way back",
      );
      assert.match(page, /ref-123/);
    });
  }

  test("an ambiguous code that may pass keeps suggesting a retry, without the locked-out line", () => {
    for (const facts of [
      refusal("SSO_TOKEN_REQUEST_FAILED", { providerAnswer: { status: 503 } }),
      refusal("SSO_IDP_ERROR", { providerAnswer: { error: "temporarily_unavailable" } }),
      refusal("SSO_OUTBOUND_FAILED"),
      refusal("SSO_STATE_EXPIRED"),
    ]) {
      const remedy = remedyOf(facts);
      const page = errorPage({ code: facts.code, remedy, traceId: "ref-123" });
      assert.match(page, /data-remedy="retry"/, facts.code);
      assert.ok(page.includes(errorSpec(facts.code).action.replace(/'/g, "&#39;")), facts.code);
      assert.doesNotMatch(page, /will not help/, facts.code);
      assert.doesNotMatch(page, /locked-out-hint/, facts.code);
    }
  });

  test("every retry action invites another attempt, and none says it will not help", () => {
    for (const [code, remedy] of Object.entries(SIGN_IN_REFUSALS) as [ErrorCode, string][]) {
      if (remedy === "administrator") continue;
      assert.doesNotMatch(errorSpec(code).action, /will not help/, code);
    }
  });

  test("a page without a remedy keeps the code's words and says nothing of one", () => {
    const page = errorPage({ code: "SSO_TOKEN_REQUEST_FAILED" });
    assert.doesNotMatch(page, /data-remedy|will not help|locked-out-hint/);
  });
});

describe("the JSON body's retryable", () => {
  test("false when only the administrator can fix it, true when trying again may help", () => {
    const refused = new GatehouseError(
      "SSO_TOKEN_REQUEST_FAILED",
      "The identity provider refused to issue tokens.",
      {
        providerAnswer: { error: "invalid_client", status: 401 },
      },
    );
    assert.deepEqual(errorBody(refused, "ref-1"), {
      code: "SSO_TOKEN_REQUEST_FAILED",
      message: "The identity provider refused to issue tokens.",
      retryable: false,
      traceId: "ref-1",
    });
    const down = new GatehouseError("SSO_TOKEN_REQUEST_FAILED", "m", { providerAnswer: { status: 502 } });
    assert.equal(errorBody(down).retryable, true);
    assert.equal(errorBody(new GatehouseError("SERVICE_UNAVAILABLE", "m")).retryable, true);
    assert.equal(errorBody(new GatehouseError("SSO_ISSUER_MISMATCH", "m")).retryable, false);
  });

  test("absent where there is no remedy, the existing members unchanged", () => {
    const body = errorBody(
      new GatehouseError("VALIDATION_FAILED", "Some fields need attention.", { fields: { a: "b" } }),
    );
    assert.deepEqual(body, {
      code: "VALIDATION_FAILED",
      message: "Some fields need attention.",
      fields: { a: "b" },
    });
  });
});
