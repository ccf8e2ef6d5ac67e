/**
 * Over HTTP: IdP-initiated sign-in where a connection allows it (with replay protection from
 * the assertion-ID store, also across two instances on one PostgreSQL), roles from a SAML
 * groups attribute, and single logout both ways (Gatehouse's signed LogoutRequest at sign-out
 * and the IdP's LogoutResponse back; the IdP's LogoutRequest ending the sessions it names).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser, csrfToken, errorCode } from "../support/browserless.js";
import { testDatabases } from "../support/databases.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";
import {
  composeResponse,
  createTestIdp,
  newId,
  type ResponseFields,
  signAssertion,
  type TestIdp,
  toPostField,
} from "./hostile-idp.js";
import {
  addSamlConnection,
  beginSamlSignIn,
  idpRedirect,
  postToAcs,
  RSA_SHA256,
  type SamlConnectionFixture,
  signedInEmail,
  userExists,
} from "./http-support.js";

const ENV = {
  GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "100000",
  GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "100000",
};

let gh: TestGatehouse;
let idp: TestIdp;
let organizationId: string;
/** SP-initiated only, with a SingleLogoutService. */
let spInitiated: SamlConnectionFixture;
/** Allows IdP-initiated sign-in; maps the group "admins" to the admin role. */
let idpInitiated: SamlConnectionFixture;

before(async () => {
  gh = await startGatehouse({ env: ENV });
  ({ organizationId } = await seedAcme(gh));
  await verifyDomainsAsOperator(gh, organizationId, ["portal.acme.test"]);
  idp = await createTestIdp();
  spInitiated = await addSamlConnection(gh, organizationId, {
    metadataXml: idp.metadataXml(),
    name: "Acme SAML",
  });
  idpInitiated = await addSamlConnection(gh, organizationId, {
    metadataXml: idp.metadataXml(),
    name: "Acme portal",
    domains: ["portal.acme.test"],
    allowIdpInitiated: true,
    groupsClaim: "groups",
  });
});
after(async () => {
  await gh.close();
});

function unsolicited(
  connection: SamlConnectionFixture,
  email: string,
  overrides: Partial<ResponseFields> = {},
) {
  return signAssertion(
    composeResponse({
      idp,
      acsUrl: connection.acsUrl,
      spEntityId: connection.entityId,
      requestId: undefined,
      now: new Date(gh.ctx.now()),
      nameId: email,
      attributes: { email: [email], groups: ["staff", "admins"] },
      ...overrides,
    }),
    { key: idp.key },
  );
}

async function roleOf(email: string): Promise<string | undefined> {
  const row = await gh.ctx.store.db
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .select("role")
    .where("users.email", "=", email)
    .executeTakeFirst();
  return row?.role;
}

describe("IdP-initiated sign-in", () => {
  test("where the connection allows it, an unsolicited response signs the person in, with a role from their groups", async () => {
    const browser = new Browser();
    const answer = await postToAcs(browser, idpInitiated.acsUrl, {
      SAMLResponse: toPostField(unsolicited(idpInitiated, "erin@portal.acme.test")),
      RelayState: "/admin",
    });
    assert.equal(answer.status, 303, answer.body.slice(0, 400));
    assert.equal(new URL(answer.location ?? "").origin, gh.url, "RelayState only ever lands on this origin");
    assert.equal(await signedInEmail(browser, gh), "erin@portal.acme.test");
    assert.equal(await roleOf("erin@portal.acme.test"), "admin", "groups feed the same role rules as OIDC");
  });

  test("the same unsolicited response a second time is a replay, refused", async () => {
    const xml = unsolicited(idpInitiated, "frank@portal.acme.test");
    assert.equal(
      (await postToAcs(new Browser(), idpInitiated.acsUrl, { SAMLResponse: toPostField(xml) })).status,
      303,
    );
    const attacker = new Browser();
    const again = await postToAcs(attacker, idpInitiated.acsUrl, { SAMLResponse: toPostField(xml) });
    assert.equal(errorCode(again.body), "SSO_SAML_RESPONSE_INVALID");
    assert.equal(await signedInEmail(attacker, gh), undefined);
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      outcome: "failure",
      type: "sign_in.sso",
      limit: 1,
    });
    assert.equal(event?.detail?.check, "replay");
  });

  test("an unsolicited response with an InResponseTo Gatehouse never sent is refused", async () => {
    const browser = new Browser();
    const xml = unsolicited(idpInitiated, "gina@portal.acme.test", { requestId: newId() });
    const answer = await postToAcs(browser, idpInitiated.acsUrl, { SAMLResponse: toPostField(xml) });
    assert.equal(errorCode(answer.body), "SSO_SAML_RESPONSE_INVALID");
    assert.equal(await userExists(gh, "gina@portal.acme.test"), false);
  });

  test("a connection that does not allow it refuses an unsolicited response", async () => {
    const browser = new Browser();
    const xml = unsolicited(spInitiated, "hank@acme.test");
    const answer = await postToAcs(browser, spInitiated.acsUrl, { SAMLResponse: toPostField(xml) });
    assert.equal(errorCode(answer.body), "SSO_STATE_MISSING");
    assert.equal(await userExists(gh, "hank@acme.test"), false);
  });
});

async function signInThroughSpInitiated(browser: Browser, email: string) {
  const started = await beginSamlSignIn(browser, gh, email);
  const xml = signAssertion(
    composeResponse({
      idp,
      acsUrl: spInitiated.acsUrl,
      spEntityId: spInitiated.entityId,
      requestId: started.requestId,
      now: new Date(gh.ctx.now()),
      nameId: email,
      attributes: { email: [email] },
      sessionIndex: `_session-${randomBytes(4).toString("hex")}`,
    }),
    { key: idp.key },
  );
  const answer = await postToAcs(browser, spInitiated.acsUrl, {
    SAMLResponse: toPostField(xml),
    RelayState: started.relayState,
  });
  assert.equal(answer.status, 303, answer.body.slice(0, 400));
}

describe("single logout", () => {
  test("signing out ends the session and sends a signed LogoutRequest; the IdP's LogoutResponse comes home", async () => {
    const browser = new Browser();
    await signInThroughSpInitiated(browser, "ivy@acme.test");
    const home = await browser.get(`${gh.url}/`);
    const out = await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal(await signedInEmail(browser, gh), undefined, "the local session ended first");
    const location = new URL(out.location ?? "");
    assert.equal(`${location.origin}${location.pathname}`, idp.sloUrl);
    assert.equal(location.searchParams.get("SigAlg"), RSA_SHA256);
    assert.ok(location.searchParams.get("Signature"));
    const request = inflateRawSync(
      Buffer.from(location.searchParams.get("SAMLRequest") ?? "", "base64"),
    ).toString();
    assert.match(request, /<saml:NameID[^>]*>ivy@acme\.test<\/saml:NameID>/);
    assert.match(request, /SessionIndex[^>]*>_session-/);
    const requestId = /\bID="([^"]+)"/.exec(request)?.[1];
    const relayState = location.searchParams.get("RelayState") ?? "";

    const response = `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${new Date(gh.ctx.now()).toISOString()}" Destination="${spInitiated.sloUrl}" InResponseTo="${requestId}"><saml:Issuer>${idp.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`;
    const back = await browser.get(
      idpRedirect(idp, spInitiated.sloUrl, "SAMLResponse", response, relayState),
    );
    assert.equal(back.status, 303);
    const landed = await browser.follow(back);
    assert.equal(landed.status, 200);
    const [returned] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "sign_out.returned",
      limit: 1,
    });
    assert.equal(returned?.outcome, "success", "the home page found the state this browser sent");
  });

  test("the IdP's LogoutRequest ends the sessions the connection opened for that person", async () => {
    const browser = new Browser();
    await signInThroughSpInitiated(browser, "jack@acme.test");
    assert.equal(await signedInEmail(browser, gh), "jack@acme.test");
    const request = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${new Date(gh.ctx.now()).toISOString()}" Destination="${spInitiated.sloUrl}"><saml:Issuer>${idp.entityId}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jack@acme.test</saml:NameID></samlp:LogoutRequest>`;
    const idpBrowser = new Browser();
    const answer = await idpBrowser.get(idpRedirect(idp, spInitiated.sloUrl, "SAMLRequest", request, "rs"));
    assert.equal(answer.status, 303);
    const location = new URL(answer.location ?? "");
    assert.equal(`${location.origin}${location.pathname}`, idp.sloUrl);
    const logoutResponse = inflateRawSync(
      Buffer.from(location.searchParams.get("SAMLResponse") ?? "", "base64"),
    ).toString();
    assert.match(logoutResponse, /status:Success/);
    assert.equal(await signedInEmail(browser, gh), undefined, "the session ended");
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "sign_out.idp",
      limit: 1,
    });
    assert.equal(event?.outcome, "success");
    assert.equal(event?.detail?.sessionsEnded, 1);
  });

  test("an unsigned LogoutRequest ends nothing and is refused, never a 500", async () => {
    const browser = new Browser();
    await signInThroughSpInitiated(browser, "kate@acme.test");
    const request = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${new Date(gh.ctx.now()).toISOString()}"><saml:Issuer>${idp.entityId}</saml:Issuer><saml:NameID>kate@acme.test</saml:NameID></samlp:LogoutRequest>`;
    const unsigned = `${spInitiated.sloUrl}?SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(request)).toString("base64"))}`;
    const answer = await new Browser().get(unsigned);
    assert.equal(answer.status, 400);
    assert.equal(errorCode(answer.body), "SSO_SAML_RESPONSE_INVALID");
    assert.equal(await signedInEmail(browser, gh), "kate@acme.test", "the session is still there");
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "sign_out.idp",
      limit: 1,
    });
    assert.equal(event?.outcome, "failure");
    assert.equal(event?.detail?.check, "signature");
  });

  test("a deflate bomb at the single logout URL stops at the size cap", async () => {
    const bomb = deflateRawSync(Buffer.alloc(30 * 1024 * 1024, 0x20)).toString("base64");
    const answer = await new Browser().get(`${spInitiated.sloUrl}?SAMLRequest=${encodeURIComponent(bomb)}`);
    assert.ok(answer.status >= 400 && answer.status < 500, String(answer.status));
  });
});

const postgres = testDatabases().find((d) => d.name === "postgres");
describe("two instances sharing one PostgreSQL", {
  skip: postgres ? false : "GATEHOUSE_TEST_POSTGRES_URL is not set",
}, () => {
  test("an assertion accepted by one instance is a replay at the other", async () => {
    assert.ok(postgres);
    const database = await postgres.create({ migrate: false });
    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const shared = { ...ENV, ...database.env, GATEHOUSE_BASE_URL: baseUrl };
    const first = await startGatehouse({ databaseUrl: database.url, port, env: shared });
    const second = await startGatehouse({ databaseUrl: database.url, env: shared });
    try {
      const { organizationId: org } = await seedAcme(first);
      const connection = await addSamlConnection(first, org, {
        metadataXml: idp.metadataXml(),
        allowIdpInitiated: true,
      });
      const xml = toPostField(
        signAssertion(
          composeResponse({
            idp,
            acsUrl: connection.acsUrl,
            spEntityId: connection.entityId,
            requestId: undefined,
            now: new Date(),
            nameId: "liz@acme.test",
            attributes: { email: ["liz@acme.test"] },
          }),
          { key: idp.key },
        ),
      );
      const atFirst = await postToAcs(new Browser(), connection.acsUrl, { SAMLResponse: xml });
      assert.equal(atFirst.status, 303, atFirst.body.slice(0, 300));
      const secondAcs = connection.acsUrl.replace(baseUrl, second.url);
      const atSecond = await postToAcs(new Browser(), secondAcs, { SAMLResponse: xml });
      assert.equal(errorCode(atSecond.body), "SSO_SAML_RESPONSE_INVALID");
      const [event] = await listAuditEvents(second.ctx.store.db, {
        organizationId: org,
        outcome: "failure",
        type: "sign_in.sso",
        limit: 1,
      });
      assert.equal(event?.detail?.check, "replay");
    } finally {
      await second.close();
      await first.close();
      await database.drop();
    }
  });
});
