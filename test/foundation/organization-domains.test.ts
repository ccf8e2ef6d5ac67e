import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { validateConnectionInput } from "../../src/connections/validate.js";
import {
  type CheckOutcome,
  canonicalDomain,
  challengeRecord,
  checkClaimableDomain,
  type DomainRefusal,
  type DomainState,
  type DomainStatus,
  displayDomain,
  FAILING_GRACE_MS,
  isDomainActive,
  matchChallenge,
  mayConnectionActForEmail,
  transitionAfterCheck,
} from "../../src/domain/organization-domains.js";

const t0 = Date.UTC(2030, 0, 15, 9, 30);
const day = 24 * 3600 * 1000;

describe("canonicalDomain: the stored form", () => {
  const cases: [input: string, expected: string | undefined][] = [
    ["acme.com", "acme.com"],
    ["  ACME.Com  ", "acme.com"],
    ["acme.com.", "acme.com"],
    ["Mail.Acme.CO.UK.", "mail.acme.co.uk"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["BÜCHER.example.", "xn--bcher-kva.example"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["münchen.de", "xn--mnchen-3ya.de"],
    ["例え.テスト", "xn--r8jz45g.xn--zckzah"],
    ["", undefined],
    [".", undefined],
    ["acme", undefined],
    ["acme..com", undefined],
    ["-acme.com", undefined],
    ["acme_corp.com", undefined],
    ["alice@acme.com", undefined],
    ["acme.com/path", undefined],
    ["https://acme.com", undefined],
    ["acme.com:443", undefined],
    ["acme .com", undefined],
    ["127.0.0.1", undefined],
    ["[::1]", undefined],
    ["acme.com\u0000", undefined],
    [`${"a".repeat(64)}.com`, undefined],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(canonicalDomain(input), expected);
    });
  }
});

describe("displayDomain: punycode shown in Unicode", () => {
  const cases: [stored: string, shown: string][] = [
    ["acme.com", "acme.com"],
    ["xn--bcher-kva.example", "bücher.example"],
    ["xn--mnchen-3ya.de", "münchen.de"],
  ];
  for (const [stored, shown] of cases) {
    test(`${stored} → ${shown}`, () => assert.equal(displayDomain(stored), shown));
  }
});

describe("checkClaimableDomain: refused outright", () => {
  const cases: [input: string, expected: string | DomainRefusal][] = [
    ["acme.com", "acme.com"],
    ["acme.co.uk", "acme.co.uk"],
    ["eu.acme.com", "eu.acme.com"],
    ["acme.test", "acme.test"],
    ["acme.github.io", "acme.github.io"],
    ["Bücher.example", "xn--bcher-kva.example"],
    ["com", "public_suffix"],
    ["COM.", "public_suffix"],
    ["co.uk", "public_suffix"],
    ["github.io", "public_suffix"],
    ["blogspot.com", "public_suffix"],
    ["gmail.com", "consumer_mail"],
    ["GMAIL.COM.", "consumer_mail"],
    ["outlook.com", "consumer_mail"],
    ["hotmail.com", "consumer_mail"],
    ["yahoo.com", "consumer_mail"],
    ["icloud.com", "consumer_mail"],
    ["protonmail.com", "consumer_mail"],
    ["not a domain", "invalid"],
    ["alice@acme.com", "invalid"],
    ["", "invalid"],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      const result = checkClaimableDomain(input);
      assert.deepEqual(
        result,
        expected.includes(".") ? { ok: true, domain: expected } : { ok: false, reason: expected },
      );
    });
  }
});

describe("isDomainActive: verified, or failing within the grace period", () => {
  const cases: [state: DomainState, failingSince: number | null, now: number, expected: boolean][] = [
    ["verified", null, t0, true],
    ["pending", null, t0, false],
    ["failing", t0, t0, true],
    ["failing", t0, t0 + 6 * day, true],
    ["failing", t0, t0 + FAILING_GRACE_MS - 1, true],
    ["failing", t0, t0 + FAILING_GRACE_MS, false],
    ["failing", t0, t0 + 30 * day, false],
    ["failing", null, t0, false],
  ];
  for (const [state, failingSince, now, expected] of cases) {
    test(`${state} since ${failingSince === null ? "-" : `${(now - failingSince) / day}d`}: ${expected}`, () => {
      assert.equal(isDomainActive({ state, failingSince }, now), expected);
    });
  }
});

describe("mayConnectionActForEmail: route, enforce, provision, link", () => {
  const org = "org-acme";
  const status = (
    domain: string,
    state: DomainState,
    organizationId = org,
    failingSince: number | null = null,
  ) => ({ organizationId, domain, state, failingSince }) satisfies DomainStatus;
  const cases: [name: string, statuses: DomainStatus[], email: string, now: number, expected: boolean][] = [
    ["a verified domain", [status("acme.test", "verified")], "alice@acme.test", t0, true],
    [
      "the second verified domain",
      [status("acme.test", "verified"), status("acme.example", "verified")],
      "bob@acme.example",
      t0,
      true,
    ],
    ["a pending domain (the takeover)", [status("gmail.test", "pending")], "victim@gmail.test", t0, false],
    [
      "a pending domain beside a verified one",
      [status("acme.test", "verified"), status("gmail.test", "pending")],
      "victim@gmail.test",
      t0,
      false,
    ],
    [
      "a domain verified by another organization",
      [status("gmail.test", "verified", "org-other")],
      "victim@gmail.test",
      t0,
      false,
    ],
    [
      "failing within grace",
      [status("acme.test", "failing", org, t0)],
      "alice@acme.test",
      t0 + 6 * day,
      true,
    ],
    ["failing past grace", [status("acme.test", "failing", org, t0)], "alice@acme.test", t0 + 8 * day, false],
    ["another domain", [status("acme.test", "verified")], "alice@othercompany.test", t0, false],
    ["a subdomain", [status("acme.test", "verified")], "alice@sub.acme.test", t0, false],
    ["a lookalike", [status("acme.test", "verified")], "alice@evilacme.test", t0, false],
    ["a suffix trick", [status("acme.test", "verified")], "alice@acme.test.evil.example", t0, false],
    ["the domain as local part", [status("acme.test", "verified")], "acme.test@evil.example", t0, false],
    ["no domains", [], "alice@acme.test", t0, false],
  ];
  for (const [name, statuses, email, now, expected] of cases) {
    test(`${name}: ${email} → ${expected}`, () => {
      assert.equal(
        mayConnectionActForEmail({ organizationId: org, domainStatuses: statuses }, email, now),
        expected,
      );
    });
  }
});

describe("challengeRecord", () => {
  test("names _gatehouse-challenge.<domain> and prefixes the token", () => {
    assert.deepEqual(challengeRecord("acme.com", "abc"), {
      name: "_gatehouse-challenge.acme.com",
      value: "gatehouse-domain-verification=abc",
    });
  });
});

describe("matchChallenge: comparing what DNS holds", () => {
  const expected = "gatehouse-domain-verification=tok123";
  const cases: [name: string, records: string[][], result: ReturnType<typeof matchChallenge>][] = [
    ["one matching record", [[expected]], { matched: true }],
    ["a record split into strings", [["gatehouse-domain-", "verification=", "tok123"]], { matched: true }],
    [
      "among other TXT records",
      [["v=spf1 -all"], [expected], ["google-site-verification=x"]],
      { matched: true },
    ],
    ["surrounding whitespace", [[` ${expected} `]], { matched: true }],
    [
      "a wrong token",
      [["v=spf1 -all"], ["gatehouse-domain-verification=other"]],
      { matched: false, found: ["gatehouse-domain-verification=other"] },
    ],
    ["quotes added", [[`"${expected}"`]], { matched: false, found: [`"${expected}"`] }],
    ["only unrelated records", [["v=spf1 -all"]], { matched: false, found: ["v=spf1 -all"] }],
    ["case changed", [[expected.toUpperCase()]], { matched: false, found: [expected.toUpperCase()] }],
  ];
  for (const [name, records, result] of cases) {
    test(name, () => assert.deepEqual(matchChallenge(records, expected), result));
  }
});

describe("transitionAfterCheck", () => {
  const cases: [
    from: DomainState,
    failingSince: number | null,
    outcome: CheckOutcome,
    to: DomainState,
    since: number | null,
    verifiedNow: boolean,
  ][] = [
    ["pending", null, "verified", "verified", null, true],
    ["pending", null, "no_record", "pending", null, false],
    ["pending", null, "mismatch", "pending", null, false],
    ["pending", null, "dns_error", "pending", null, false],
    ["verified", null, "verified", "verified", null, false],
    ["verified", null, "no_record", "failing", t0, false],
    ["verified", null, "mismatch", "failing", t0, false],
    ["verified", null, "dns_error", "verified", null, false],
    ["failing", t0 - day, "no_record", "failing", t0 - day, false],
    ["failing", t0 - day, "dns_error", "failing", t0 - day, false],
    ["failing", t0 - day, "verified", "verified", null, false],
  ];
  for (const [from, failingSince, outcome, to, since, verifiedNow] of cases) {
    test(`${from} + ${outcome} → ${to}`, () => {
      assert.deepEqual(transitionAfterCheck({ state: from, failingSince }, outcome, t0), {
        state: to,
        failingSince: since,
        verifiedNow,
      });
    });
  }
});

describe("a connection's domains are refused like added ones", () => {
  const base = { name: "Acme Okta", issuer: "https://acme.okta.com", clientId: "id", clientSecret: "secret" };
  const cases: [domains: string[], expected: string[] | RegExp][] = [
    [["acme.com", "@Acme.com", "ACME.com."], ["acme.com"]],
    [["bücher.example"], ["xn--bcher-kva.example"]],
    [["gmail.com"], /gmail\.com is a public email provider/],
    [["acme.com", "co.uk"], /co\.uk is a public suffix/],
    [["github.io"], /github\.io is a public suffix/],
    [["acme com/x"], /is not a domain name/],
  ];
  for (const [domains, expected] of cases) {
    test(`${JSON.stringify(domains)} → ${expected instanceof RegExp ? "refused" : JSON.stringify(expected)}`, () => {
      const { value, errors } = validateConnectionInput({ ...base, domains });
      if (expected instanceof RegExp) assert.match(errors.domains ?? "", expected);
      else {
        assert.equal(errors.domains, undefined);
        assert.deepEqual(value.domains, expected);
      }
    });
  }
});
