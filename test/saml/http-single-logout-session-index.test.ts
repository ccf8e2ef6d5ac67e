/**
 * Over HTTP: an IdP's LogoutRequest ends the sessions it names (SAML Core 3.7.1). With
 * SessionIndex elements, only the sessions signed in by assertions with one of those indexes;
 * without any, every session the connection opened for that NameID. The answer is a signed
 * LogoutResponse with status Success either way, even when nothing matched.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { inflateRawSync } from "node:zlib";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";
import {
  composeResponse,
  createTestIdp,
  newId,
  signAssertion,
  type TestIdp,
  toPostField,
} from "./hostile-idp.js";
import {
  addSamlConnection,
  beginSamlSignIn,
  idpRedirect,
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
let organizationId: string;
let connection: SamlConnectionFixture;

before(async () => {
  gh = await startGatehouse({ env: ENV });
  ({ organizationId } = await seedAcme(gh));
  idp = await createTestIdp();
  connection = await addSamlConnection(gh, organizationId, { metadataXml: idp.metadataXml() });
});
after(async () => {
  await gh.close();
});

/** A new browser signed in SP-initiated by an assertion whose AuthnStatement has this SessionIndex. */
async function signedInBrowser(email: string, sessionIndex: string): Promise<Browser> {
  const browser = new Browser();
  const started = await beginSamlSignIn(browser, gh, email);
  const xml = signAssertion(
    composeResponse({
      idp,
      acsUrl: connection.acsUrl,
      spEntityId: connection.entityId,
      requestId: started.requestId,
      now: new Date(gh.ctx.now()),
      nameId: email,
      attributes: { email: [email] },
      sessionIndex,
    }),
    { key: idp.key },
  );
  const answer = await postToAcs(browser, connection.acsUrl, {
    SAMLResponse: toPostField(xml),
    RelayState: started.relayState,
  });
  assert.equal(answer.status, 303, answer.body.slice(0, 400));
  assert.equal(await signedInEmail(browser, gh), email);
  return browser;
}

/** The IdP's signed LogoutRequest for `email`, naming these SessionIndex values; the LogoutResponse it gets back. */
async function idpLogout(email: string, sessionIndexes: string[]) {
  const indexes = sessionIndexes.map((v) => `<samlp:SessionIndex>${v}</samlp:SessionIndex>`).join("");
  const request = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${new Date(gh.ctx.now()).toISOString()}" Destination="${connection.sloUrl}"><saml:Issuer>${idp.entityId}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${email}</saml:NameID>${indexes}</samlp:LogoutRequest>`;
  const answer = await new Browser().get(idpRedirect(idp, connection.sloUrl, "SAMLRequest", request, "rs"));
  assert.equal(answer.status, 303, answer.body.slice(0, 400));
  const location = new URL(answer.location ?? "");
  assert.equal(`${location.origin}${location.pathname}`, idp.sloUrl, "the answer goes back to the IdP");
  assert.ok(location.searchParams.get("Signature"), "the LogoutResponse is signed");
  const logoutResponse = inflateRawSync(
    Buffer.from(location.searchParams.get("SAMLResponse") ?? "", "base64"),
  ).toString();
  const [event] = await listAuditEvents(gh.ctx.store.db, { organizationId, type: "sign_out.idp", limit: 1 });
  assert.equal(event?.outcome, "success");
  return { logoutResponse, sessionsEnded: event?.detail?.sessionsEnded };
}

const SUCCESS = /StatusCode Value="urn:oasis:names:tc:SAML:2\.0:status:Success"/;

describe("an IdP's LogoutRequest ends the sessions it names", () => {
  test("naming one SessionIndex ends only the session that index signed in", async () => {
    const laptop = await signedInBrowser("dana@acme.test", "_idx-dana-laptop");
    const phone = await signedInBrowser("dana@acme.test", "_idx-dana-phone");
    const { logoutResponse, sessionsEnded } = await idpLogout("dana@acme.test", ["_idx-dana-laptop"]);
    assert.match(logoutResponse, SUCCESS);
    assert.equal(sessionsEnded, 1);
    assert.equal(await signedInEmail(laptop, gh), undefined, "the named session ended");
    assert.equal(await signedInEmail(phone, gh), "dana@acme.test", "the other one stays");
  });

  test("naming both SessionIndex values ends both sessions", async () => {
    const laptop = await signedInBrowser("eli@acme.test", "_idx-eli-laptop");
    const phone = await signedInBrowser("eli@acme.test", "_idx-eli-phone");
    const { logoutResponse, sessionsEnded } = await idpLogout("eli@acme.test", [
      "_idx-eli-laptop",
      "_idx-eli-phone",
    ]);
    assert.match(logoutResponse, SUCCESS);
    assert.equal(sessionsEnded, 2);
    assert.equal(await signedInEmail(laptop, gh), undefined);
    assert.equal(await signedInEmail(phone, gh), undefined);
  });

  test("without a SessionIndex every session of that NameID from the connection ends", async () => {
    const laptop = await signedInBrowser("fay@acme.test", "_idx-fay-laptop");
    const phone = await signedInBrowser("fay@acme.test", "_idx-fay-phone");
    const { logoutResponse, sessionsEnded } = await idpLogout("fay@acme.test", []);
    assert.match(logoutResponse, SUCCESS);
    assert.equal(sessionsEnded, 2);
    assert.equal(await signedInEmail(laptop, gh), undefined);
    assert.equal(await signedInEmail(phone, gh), undefined);
  });

  test("a SessionIndex that matches none of the person's sessions ends nothing and still answers Success", async () => {
    const browser = await signedInBrowser("gus@acme.test", "_idx-gus");
    const { logoutResponse, sessionsEnded } = await idpLogout("gus@acme.test", ["_idx-gus-elsewhere"]);
    assert.match(logoutResponse, SUCCESS);
    assert.equal(sessionsEnded, 0);
    assert.equal(await signedInEmail(browser, gh), "gus@acme.test");
  });

  test("another person's SessionIndex under this NameID ends neither person's session", async () => {
    const hal = await signedInBrowser("hal@acme.test", "_idx-hal");
    const ida = await signedInBrowser("ida@acme.test", "_idx-ida");
    const { sessionsEnded } = await idpLogout("hal@acme.test", ["_idx-ida"]);
    assert.equal(sessionsEnded, 0);
    assert.equal(await signedInEmail(hal, gh), "hal@acme.test");
    assert.equal(await signedInEmail(ida, gh), "ida@acme.test");
  });
});
