/** Email, name and groups as real IdPs send them: a table per claim. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ClaimsInput, readClaims } from "../../src/sso/saml/assertion-claims.js";

const EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

function claims(partial: Partial<ClaimsInput> & { attrs?: Record<string, string[]> }) {
  return readClaims({
    nameId: partial.nameId ?? "00u1abcd",
    nameIdFormat: partial.nameIdFormat ?? PERSISTENT,
    attributes: new Map(Object.entries(partial.attrs ?? {})),
    configured: partial.configured ?? {},
  });
}

describe("email", () => {
  const cases: Array<
    [string, Partial<ClaimsInput> & { attrs?: Record<string, string[]> }, string | undefined]
  > = [
    [
      "emailAddress NameID (Okta, Google)",
      { nameId: "Alice@Acme.test", nameIdFormat: EMAIL_FORMAT },
      "alice@acme.test",
    ],
    ["mail attribute", { attrs: { mail: ["alice@acme.test"] } }, "alice@acme.test"],
    ["email attribute", { attrs: { email: ["alice@acme.test"] } }, "alice@acme.test"],
    [
      "LDAP OID (Shibboleth)",
      { attrs: { "urn:oid:0.9.2342.19200300.100.1.3": ["alice@acme.test"] } },
      "alice@acme.test",
    ],
    [
      "ADFS / Entra ID claim URI",
      {
        attrs: { "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": ["alice@acme.test"] },
      },
      "alice@acme.test",
    ],
    [
      "unspecified NameID that is an email (ADFS UPN)",
      { nameId: "alice@acme.test", nameIdFormat: UNSPECIFIED },
      "alice@acme.test",
    ],
    [
      "persistent NameID is never read as an email",
      { nameId: "alice@acme.test", nameIdFormat: PERSISTENT },
      undefined,
    ],
    [
      "an attribute that is not an email is skipped",
      { attrs: { mail: ["not-an-email"], email: ["alice@acme.test"] } },
      "alice@acme.test",
    ],
    ["no email anywhere", { attrs: { displayName: ["Alice"] } }, undefined],
    [
      "a configured attribute is the only source",
      {
        attrs: { mail: ["alice@acme.test"], corpMail: ["a.example@acme.test"] },
        configured: { email: "corpMail" },
      },
      "a.example@acme.test",
    ],
    [
      "a configured attribute that is absent gives no email",
      { nameId: "alice@acme.test", nameIdFormat: EMAIL_FORMAT, configured: { email: "corpMail" } },
      undefined,
    ],
  ];
  for (const [what, input, expected] of cases) {
    test(what, () => assert.equal(claims(input).email, expected));
  }
});

describe("name", () => {
  const cases: Array<[string, Record<string, string[]>, string | undefined]> = [
    ["displayName", { displayName: ["Alice Example"] }, "Alice Example"],
    [
      "Entra ID display name",
      { "http://schemas.microsoft.com/identity/claims/displayname": ["Alice E."] },
      "Alice E.",
    ],
    ["Okta firstName + lastName", { firstName: ["Alice"], lastName: ["Example"] }, "Alice Example"],
    [
      "ADFS given name + surname",
      {
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": ["Alice"],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": ["Example"],
      },
      "Alice Example",
    ],
    ["none", {}, undefined],
  ];
  for (const [what, attrs, expected] of cases) {
    test(what, () => assert.equal(claims({ attrs }).name, expected));
  }
});

describe("given and family names", () => {
  const cases: Array<[string, Record<string, string[]>, string | undefined, string | undefined]> = [
    ["Okta firstName + lastName", { firstName: ["Alice"], lastName: ["Example"] }, "Alice", "Example"],
    [
      "LDAP givenName + sn (Shibboleth, SimpleSAMLphp)",
      { givenName: ["Alice"], sn: ["Example"] },
      "Alice",
      "Example",
    ],
    ["OIDs", { "urn:oid:2.5.4.42": ["Alice"], "urn:oid:2.5.4.4": ["Example"] }, "Alice", "Example"],
    [
      "ADFS / Entra ID claim URIs",
      {
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": ["Alice"],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": ["Example"],
      },
      "Alice",
      "Example",
    ],
    [
      "blank values are skipped, values trimmed",
      { givenName: [" ", " Alice "], sn: [""] },
      "Alice",
      undefined,
    ],
    ["a display name alone gives neither", { displayName: ["Alice Example"] }, undefined, undefined],
  ];
  for (const [what, attrs, given, family] of cases) {
    test(what, () => {
      const read = claims({ attrs });
      assert.equal(read.givenName, given);
      assert.equal(read.familyName, family);
    });
  }

  test("a display name wins for the name; the given and family names are still kept", () => {
    const read = claims({
      attrs: { displayName: ["Dr. Alice Example"], givenName: ["Alice"], sn: ["Example"] },
    });
    assert.deepEqual([read.name, read.givenName, read.familyName], ["Dr. Alice Example", "Alice", "Example"]);
  });

  test("names are kept to 200 characters, as an OpenID Connect provider's are", () => {
    const long = "A".repeat(500);
    const read = claims({ attrs: { givenName: [long], sn: [long] } });
    assert.equal(read.givenName, "A".repeat(200));
    assert.equal(read.familyName, "A".repeat(200));
    assert.equal(read.name?.length, 200);
    assert.equal(claims({ attrs: { displayName: [long] } }).name, "A".repeat(200));
  });
});

describe("groups", () => {
  test("a multi-valued attribute gives every value, once", () => {
    assert.deepEqual(claims({ attrs: { groups: ["admins", "staff", "admins"] } }).groups, [
      "admins",
      "staff",
    ]);
  });
  test("Entra ID group claim URI", () => {
    assert.deepEqual(
      claims({ attrs: { "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": ["0f1e-guid"] } })
        .groups,
      ["0f1e-guid"],
    );
  });
  test("ADFS Group claim and memberOf together", () => {
    assert.deepEqual(
      claims({
        attrs: { memberOf: ["cn=staff"], "http://schemas.xmlsoap.org/claims/Group": ["Domain Admins"] },
      }).groups,
      ["cn=staff", "Domain Admins"],
    );
  });
  test("a configured attribute replaces the well-known ones", () => {
    assert.deepEqual(
      claims({ attrs: { groups: ["a"], teams: ["t1", "t2"] }, configured: { groups: "teams" } }).groups,
      ["t1", "t2"],
    );
  });
  test("no groups", () => assert.deepEqual(claims({}).groups, []));
});
