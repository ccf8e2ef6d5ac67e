import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { normalizeDomain, normalizeEmail } from "../../src/domain/email.js";
import { safeReturnTo } from "../../src/domain/return-to.js";
import { decideSignIn, type EnforcingConnection, signInMethodsNow } from "../../src/domain/sso-policy.js";
import type { SignInMethod } from "../../src/store/schema.js";

describe("normalizeEmail", () => {
  const cases: [input: string, expected: string | undefined][] = [
    ["alice@acme.test", "alice@acme.test"],
    ["  Alice@ACME.Test  ", "alice@acme.test"],
    ["first.last+tag@mail.acme.co.uk", "first.last+tag@mail.acme.co.uk"],
    ["o'brien@acme.test", "o'brien@acme.test"],
    ["", undefined],
    ["alice", undefined],
    ["@acme.test", undefined],
    ["alice@", undefined],
    ["alice@@acme.test", undefined],
    ["alice@bob@acme.test", undefined],
    [".alice@acme.test", undefined],
    ["alice.@acme.test", undefined],
    ["al..ice@acme.test", undefined],
    ["al ice@acme.test", undefined],
    ['"alice"@acme.test', undefined],
    ['"><script>alert(1)</script>@x.test', undefined],
    ["alice@localhost", undefined],
    ["alice@acme", undefined],
    ["alice@127.0.0.1", undefined],
    ["alice@[127.0.0.1]", undefined],
    ["alice@-acme.test", undefined],
    ["alice@acme-.test", undefined],
    ["alice@acme.test.", undefined],
    ["alice@acme_corp.test", undefined],
    ["alice@acme.test\n", "alice@acme.test"],
    ["alice\u0000@acme.test", undefined],
    // Lower-casing folds the Kelvin sign (U+212A) and the dotted capital I into ASCII look-alikes:
    // the ASCII check comes first, so they never become another person's address.
    ["\u212Aate@acme.test", undefined],
    ["kate@\u212Acme.test", undefined],
    ["\u0130vy@acme.test", undefined],
    [`${"a".repeat(64)}@acme.test`, `${"a".repeat(64)}@acme.test`],
    [`${"a".repeat(65)}@acme.test`, undefined],
    [`${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}`, undefined],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizeEmail(input), expected);
    });
  }
});

describe("normalizeDomain", () => {
  const cases: [input: string, expected: string | undefined][] = [
    ["acme.test", "acme.test"],
    ["  ACME.Test ", "acme.test"],
    ["acme.test.", "acme.test"],
    ["\u212Acme.test", undefined],
    ["mail.acme.co.uk", "mail.acme.co.uk"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["a-b.c1", "a-b.c1"],
    ["", undefined],
    [".", undefined],
    ["acme", undefined],
    ["localhost", undefined],
    [".acme.test", undefined],
    ["acme..test", undefined],
    ["-acme.test", undefined],
    ["acme-.test", undefined],
    ["acme.123", undefined],
    ["10.0.0.1", undefined],
    ["acme test.com", undefined],
    ["acme.test/path", undefined],
    ["*.acme.test", undefined],
    ["user@acme.test", undefined],
    ["https://acme.test", undefined],
    ["bücher.example", undefined],
    [`${"a".repeat(64)}.test`, undefined],
    [`${"a".repeat(63)}.test`, `${"a".repeat(63)}.test`],
    [`${"a.".repeat(127)}test`, undefined],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizeDomain(input), expected);
    });
  }
});

describe("safeReturnTo", () => {
  const cases: [input: unknown, expected: string][] = [
    ["/", "/"],
    ["/admin", "/admin"],
    ["/admin/enterprise-authentication/oidc", "/admin/enterprise-authentication/oidc"],
    ["/admin?tab=1&x=%2F", "/admin?tab=1&x=%2F"],
    ["/page#section", "/page#section"],
    ["/a/../admin", "/admin"],
    [undefined, "/"],
    [null, "/"],
    [42, "/"],
    [["/admin"], "/"],
    ["", "/"],
    ["admin", "/"],
    ["https://evil.example", "/"],
    ["https://evil.example/admin", "/"],
    ["http://localhost:3000/admin", "/"],
    ["//evil.example", "/"],
    ["///evil.example", "/"],
    ["/\\evil.example", "/"],
    ["\\\\evil.example", "/"],
    ["/\\/evil.example", "/"],
    ["/admin\\..\\..\\evil", "/"],
    ["/.//evil.example", "/"],
    ["/a/..//evil.example", "/"],
    ["/..//evil.example", "/"],
    ["/\tevil.example", "/"],
    ["/\n/evil.example", "/"],
    ["/\r\nSet-Cookie: x=1", "/"],
    ["/\u0000", "/"],
    [" /admin", "/"],
    ["javascript:alert(1)", "/"],
    ["data:text/html,<script>alert(1)</script>", "/"],
    [`/${"a".repeat(2000)}`, "/"],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)?.slice(0, 60)} → ${expected}`, () => {
      assert.equal(safeReturnTo(input), expected);
    });
  }

  test("the result is always a path that a browser resolves to the same origin", () => {
    const inputs = ["/%2F%2Fevil.example", "/%5Cevil.example", "/.//evil.example", "/./\\evil.example"];
    for (const input of inputs) {
      const result = safeReturnTo(input);
      assert.equal(new URL(result, "https://sso.acme.example").origin, "https://sso.acme.example", input);
      assert.ok(!result.startsWith("//") && !result.startsWith("/\\"), `${input} → ${result}`);
    }
  });

  test("a fallback other than / can be given", () => {
    assert.equal(safeReturnTo("https://evil.example", "/login"), "/login");
  });
});

describe("decideSignIn", () => {
  const enabled: EnforcingConnection = {
    id: "conn-1",
    name: "Acme Okta",
    organizationName: "Acme",
    status: "enabled",
  };
  const disabled: EnforcingConnection = { ...enabled, status: "disabled" };
  const refused = {
    allowed: false,
    reason: "AUTH_SSO_REQUIRED",
    connectionName: "Acme Okta",
    organizationName: "Acme",
  } as const;

  const cases: [
    label: string,
    method: SignInMethod,
    enforcing: EnforcingConnection | undefined,
    via: string | undefined,
    expected: ReturnType<typeof decideSignIn>,
  ][] = [
    ["password, no connection for the domain", "password", undefined, undefined, { allowed: true }],
    ["linkedin, no connection for the domain", "linkedin", undefined, undefined, { allowed: true }],
    ["sso, no connection for the domain", "sso", undefined, "conn-9", { allowed: true }],
    ["password while the domain's connection is enabled", "password", enabled, undefined, refused],
    ["linkedin while the domain's connection is enabled", "linkedin", enabled, undefined, refused],
    ["sso through the domain's own connection", "sso", enabled, "conn-1", { allowed: true }],
    ["sso through another organization's connection", "sso", enabled, "conn-2", refused],
    ["sso without saying which connection", "sso", enabled, undefined, refused],
    ["password while the connection is disabled", "password", disabled, undefined, { allowed: true }],
    ["linkedin while the connection is disabled", "linkedin", disabled, undefined, { allowed: true }],
  ];
  for (const [label, method, enforcing, via, expected] of cases) {
    test(label, () => {
      assert.deepEqual(decideSignIn(method, enforcing, via), expected);
    });
  }
});

describe("signInMethodsNow: how a person signs in, not only what they hold", () => {
  const enabled: EnforcingConnection = {
    id: "conn-1",
    name: "Acme Okta",
    organizationName: "Acme",
    status: "enabled",
  };
  const disabled: EnforcingConnection = { ...enabled, status: "disabled" };
  const cases: [
    label: string,
    credentials: SignInMethod[],
    enforcing: EnforcingConnection | undefined,
    expected: {
      required: boolean;
      usable: SignInMethod[];
      refused: SignInMethod[];
      ssoUnavailable?: boolean;
    },
  ][] = [
    [
      "a password, no connection",
      ["password"],
      undefined,
      { required: false, usable: ["password"], refused: [] },
    ],
    [
      "a password and LinkedIn, connection disabled",
      ["password", "linkedin"],
      disabled,
      { required: false, usable: ["password", "linkedin"], refused: [] },
    ],
    ["nothing yet, no connection", [], undefined, { required: false, usable: [], refused: [] }],
    [
      "a password under an enabled connection",
      ["password"],
      enabled,
      { required: true, usable: ["sso"], refused: ["password"] },
    ],
    [
      "a password, LinkedIn and SSO under an enabled connection",
      ["password", "linkedin", "sso"],
      enabled,
      { required: true, usable: ["sso"], refused: ["password", "linkedin"] },
    ],
    [
      "SSO only under an enabled connection",
      ["sso"],
      enabled,
      { required: true, usable: ["sso"], refused: [] },
    ],
    [
      "nothing yet under an enabled connection",
      [],
      enabled,
      { required: true, usable: ["sso"], refused: [] },
    ],
    [
      "SSO only, its connection disabled: no way in",
      ["sso"],
      disabled,
      { required: false, usable: [], refused: [], ssoUnavailable: true },
    ],
    [
      "SSO only, no connection any more: no way in",
      ["sso"],
      undefined,
      { required: false, usable: [], refused: [], ssoUnavailable: true },
    ],
    [
      "a password and SSO, no connection any more: the password",
      ["password", "sso"],
      undefined,
      { required: false, usable: ["password"], refused: [], ssoUnavailable: true },
    ],
  ];
  for (const [label, credentials, enforcing, expected] of cases) {
    test(label, () => {
      const now = signInMethodsNow(credentials, enforcing);
      assert.deepEqual(
        {
          required: now.ssoRequiredBy !== undefined,
          usable: now.usable,
          refused: now.refused,
          ssoUnavailable: now.ssoUnavailable,
        },
        { ssoUnavailable: false, ...expected },
      );
      if (now.ssoRequiredBy) assert.equal(now.ssoRequiredBy.name, "Acme Okta");
    });
  }
});
