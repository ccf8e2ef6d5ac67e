/**
 * Over HTTP: where an IdP-initiated sign-in lands. The IdP's RelayState is followed only when it
 * is a same-origin path; every other form of it (absolute or scheme-relative URLs, backslash
 * tricks, script URLs, control characters, longer than SAML allows) lands on the home page, and
 * the person is still signed in. An SP-initiated sign-in lands on the `return_to` it began with,
 * whatever the RelayState (there, Gatehouse's own handle).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Browser } from "../support/browserless.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";
import { composeResponse, createTestIdp, signAssertion, type TestIdp, toPostField } from "./hostile-idp.js";
import {
  addSamlConnection,
  beginSamlSignIn,
  postToAcs,
  type SamlConnectionFixture,
  signedInEmail,
} from "./http-support.js";

const ENV = {
  GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "100000",
  GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "100000",
};

let gh: TestGatehouse;
let idp: TestIdp;
/** SP-initiated only, for acme.test. */
let spInitiated: SamlConnectionFixture;
/** Allows IdP-initiated sign-in, for portal.acme.test. */
let idpInitiated: SamlConnectionFixture;

before(async () => {
  gh = await startGatehouse({ env: ENV });
  const { organizationId } = await seedAcme(gh);
  await verifyDomainsAsOperator(gh, organizationId, ["portal.acme.test"]);
  idp = await createTestIdp();
  spInitiated = await addSamlConnection(gh, organizationId, { metadataXml: idp.metadataXml() });
  idpInitiated = await addSamlConnection(gh, organizationId, {
    metadataXml: idp.metadataXml(),
    domains: ["portal.acme.test"],
    allowIdpInitiated: true,
  });
});
after(async () => {
  await gh.close();
});

let people = 0;

/** An IdP-initiated sign-in of a new person with this RelayState: where it lands, and as whom. */
async function idpInitiatedSignIn(relayState: string | undefined) {
  const email = `relay${++people}@portal.acme.test`;
  const xml = signAssertion(
    composeResponse({
      idp,
      acsUrl: idpInitiated.acsUrl,
      spEntityId: idpInitiated.entityId,
      requestId: undefined,
      now: new Date(gh.ctx.now()),
      nameId: email,
      attributes: { email: [email] },
    }),
    { key: idp.key },
  );
  const browser = new Browser();
  const answer = await postToAcs(browser, idpInitiated.acsUrl, {
    SAMLResponse: toPostField(xml),
    RelayState: relayState,
  });
  assert.equal(answer.status, 303, answer.body.slice(0, 400));
  assert.equal(await signedInEmail(browser, gh), email, "signed in wherever it lands");
  return new URL(answer.location ?? "");
}

describe("IdP-initiated sign-in lands on the IdP's RelayState", () => {
  test("a same-origin path, query included, is where it lands", async () => {
    const landed = await idpInitiatedSignIn("/reports/weekly?team=ops");
    assert.equal(landed.origin, gh.url);
    assert.equal(`${landed.pathname}${landed.search}`, "/reports/weekly?team=ops");
  });

  test("without a RelayState it lands on the home page", async () => {
    const landed = await idpInitiatedSignIn(undefined);
    assert.equal(landed.toString(), `${gh.url}/`);
  });

  const hostile: Array<[string, string]> = [
    ["an absolute URL", "https://evil.test/phish"],
    ["a scheme-relative URL", "//evil.test/phish"],
    ["a backslash after the slash", "/\\evil.test/phish"],
    ["a dot segment that collapses to //", "/.//evil.test/phish"],
    ["a javascript: URL", "javascript:alert(document.cookie)"],
    ["a control character", "/reports\r\nSet-Cookie: x=1"],
    ["a tab inside the host part", "/\t/evil.test/phish"],
    ["a path over SAML's 80 bytes", `/${"a".repeat(80)}`],
  ];
  for (const [what, relayState] of hostile) {
    test(`${what} lands on the home page`, async () => {
      const landed = await idpInitiatedSignIn(relayState);
      assert.equal(landed.toString(), `${gh.url}/`);
    });
  }
});

describe("SP-initiated sign-in", () => {
  test("lands on the return_to it began with, not on anything the RelayState says", async () => {
    const browser = new Browser();
    const email = "sp-return@acme.test";
    const started = await beginSamlSignIn(browser, gh, email, { returnTo: "/projects/42?view=board" });
    const xml = signAssertion(
      composeResponse({
        idp,
        acsUrl: spInitiated.acsUrl,
        spEntityId: spInitiated.entityId,
        requestId: started.requestId,
        now: new Date(gh.ctx.now()),
        nameId: email,
        attributes: { email: [email] },
      }),
      { key: idp.key },
    );
    const answer = await postToAcs(browser, spInitiated.acsUrl, {
      SAMLResponse: toPostField(xml),
      RelayState: started.relayState,
    });
    assert.equal(answer.status, 303, answer.body.slice(0, 400));
    const landed = new URL(answer.location ?? "");
    assert.equal(landed.origin, gh.url);
    assert.equal(`${landed.pathname}${landed.search}`, "/projects/42?view=board");
    assert.equal(await signedInEmail(browser, gh), email);
  });
});
