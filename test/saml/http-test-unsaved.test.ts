/**
 * Test sign-in of SAML values not saved yet, over HTTP: the Setup form's values (before Create,
 * through the ACS URL of the id the page allocated) and an edit's values (before Save). The
 * values stay server-side with the test; what comes back to the ACS URL is checked against
 * them, and nothing but the test and its audit entry is written: no connection, user,
 * identity, membership or session.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { inflateRawSync } from "node:zlib";
import { createApiKey } from "../../src/api/keys.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { findConnectionById } from "../../src/store/connections.js";
import { Browser, csrfToken, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";
import { composeResponse, createTestIdp, signAssertion, type TestIdp, toPostField } from "./hostile-idp.js";
import { addSamlConnection, postToAcs } from "./http-support.js";

const SAML_PATH = "/admin/enterprise-authentication/saml";

let gh: TestGatehouse;
let organizationId: string;
let idp: TestIdp;
let attacker: TestIdp;
let admin: Browser;

before(async () => {
  gh = await startGatehouse({
    env: {
      GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "100000",
      GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "100000",
    },
  });
  ({ organizationId } = await seedAcme(gh));
  admin = new Browser();
  assert.equal((await passwordSignIn(admin, gh.url, ADMIN.email, ADMIN.password)).status, 303);
  idp = await createTestIdp();
  attacker = await createTestIdp();
});
after(async () => {
  await gh.close();
});

async function rowCounts() {
  const db = gh.ctx.store.db;
  const count = async (table: "connections" | "users" | "identities" | "memberships" | "sessions") =>
    Number((await db.selectFrom(table).select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  return {
    connections: await count("connections"),
    users: await count("users"),
    identities: await count("identities"),
    memberships: await count("memberships"),
    sessions: await count("sessions"),
  };
}

interface SetupForm {
  csrf: string;
  connectionId: string;
  connectionIdProof: string;
}

async function openSetup(): Promise<SetupForm> {
  const page = await admin.get(`${gh.url}${SAML_PATH}/new`);
  assert.equal(page.status, 200);
  const connectionId = /name="connectionId" value="([^"]+)"/.exec(page.body)?.[1];
  const connectionIdProof = /name="connectionIdProof" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(connectionId && connectionIdProof);
  assert.match(page.body, /data-testid="test-sign-in"/);
  return { csrf: csrfToken(page.body), connectionId, connectionIdProof };
}

interface StartedTest {
  testId: string;
  requestId: string;
  relayState: string;
}

/** Follows a test's start link to the IdP: the AuthnRequest's ID and the RelayState. */
async function followToIdp(location: string | undefined): Promise<StartedTest> {
  const testId = /\/tests\/([0-9a-f-]{36})\/start$/.exec(location ?? "")?.[1];
  assert.ok(testId, `a test's start link: ${location}`);
  const start = await admin.get(location ?? "");
  assert.ok(start.status === 302 || start.status === 303, `${start.status} ${start.body.slice(0, 300)}`);
  const url = new URL(start.location ?? "");
  assert.equal(`${url.origin}${url.pathname}`, idp.ssoUrl);
  const requestXml = inflateRawSync(
    Buffer.from(url.searchParams.get("SAMLRequest") ?? "", "base64"),
  ).toString();
  const requestId = /\bID="([^"]+)"/.exec(requestXml)?.[1];
  assert.ok(requestId);
  return { testId, requestId, relayState: url.searchParams.get("RelayState") ?? "" };
}

/** The Setup form's "Test sign-in" with the IdP's metadata pasted. */
async function testFromSetup(form: SetupForm, name: string): Promise<StartedTest> {
  const answer = await admin.post(`${gh.url}${SAML_PATH}/test`, {
    _csrf: form.csrf,
    connectionId: form.connectionId,
    connectionIdProof: form.connectionIdProof,
    name,
    metadataSource: "xml",
    metadataXml: idp.metadataXml(),
    domains: "acme.test",
  });
  assert.equal(answer.status, 303, answer.body.slice(0, 800));
  return followToIdp(answer.location);
}

function acsOf(connectionId: string) {
  return {
    acsUrl: `${gh.url}/sso/saml/${connectionId}/acs`,
    spEntityId: `${gh.url}/sso/saml/${connectionId}/metadata`,
  };
}

function signedResponse(
  connectionId: string,
  started: StartedTest,
  options: { key?: TestIdp["key"]; email?: string } = {},
): string {
  const email = options.email ?? "dana@acme.test";
  return signAssertion(
    composeResponse({
      idp,
      ...acsOf(connectionId),
      requestId: started.requestId,
      now: new Date(gh.ctx.now()),
      nameId: email,
      attributes: { email: [email], displayName: ["Dana Example"], groups: ["admins"] },
    }),
    { key: options.key ?? idp.key },
  );
}

/** The IdP's POST to `acsUrl`, then the result page the ACS sends the admin to. */
async function answerAt(acsUrl: string, xml: string, relayState: string) {
  const back = await postToAcs(admin, acsUrl, { SAMLResponse: toPostField(xml), RelayState: relayState });
  assert.equal(back.status, 303, back.body.slice(0, 500));
  assert.match(back.location ?? "", /\/tests\/[0-9a-f-]{36}$/);
  return admin.get(back.location ?? "");
}

function checkState(page: string, name: string): string | undefined {
  return new RegExp(`data-testid="test-check" data-check="${name}" data-state="([a-z-]+)"`).exec(page)?.[1];
}

async function testedEvent(testName: string) {
  const events = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "connection.tested",
    limit: 100,
  });
  return events.filter((e) => (e.detail as { name?: string } | null)?.name === testName);
}

describe("test sign-in of unsaved SAML values", () => {
  test("the Setup form's values, before Create: back through the ACS URL the page showed to the result, and nothing but the audit entry written", async () => {
    const before = await rowCounts();
    const form = await openSetup();
    const started = await testFromSetup(form, "Acme ADFS (test)");
    const page = await answerAt(
      acsOf(form.connectionId).acsUrl,
      signedResponse(form.connectionId, started),
      started.relayState,
    );
    assert.equal(page.status, 200);
    assert.match(page.body, /data-outcome="success"/);
    assert.match(page.body, /dana@acme\.test/);
    assert.match(page.body, /data-account="new"/);
    assert.match(page.body, /data-testid="saml-attributes-claims"/);
    for (const check of ["signature", "issuer", "destination", "audience", "recipient", "in-response-to"]) {
      assert.equal(checkState(page.body, check), "passed", check);
    }
    assert.match(page.body, new RegExp(`${SAML_PATH}/new\\?test=${started.testId}`), "back to the form");
    assert.deepEqual(await rowCounts(), before, "no connection, user, identity, membership or session");
    assert.equal(await findConnectionById(gh.ctx.store.db, form.connectionId), undefined);
    const [event, ...more] = await testedEvent("Acme ADFS (test)");
    assert.equal(more.length, 0);
    assert.equal(event?.outcome, "success");
    assert.equal(event?.connectionId, null);

    // Back to the form: the same values and the same id, so Create makes what was tested.
    const again = await admin.get(`${gh.url}${SAML_PATH}/new?test=${started.testId}`);
    assert.match(again.body, new RegExp(`name="connectionId" value="${form.connectionId}"`));
    assert.match(again.body, /value="Acme ADFS \(test\)"/);
  });

  test("an assertion signed by another key is refused with the signature check named, and audited", async () => {
    const before = await rowCounts();
    const form = await openSetup();
    const started = await testFromSetup(form, "Acme ADFS (bad signature)");
    const page = await answerAt(
      acsOf(form.connectionId).acsUrl,
      signedResponse(form.connectionId, started, { key: attacker.key }),
      started.relayState,
    );
    assert.match(page.body, /data-outcome="failure"/);
    assert.match(page.body, /data-error-code="SSO_SAML_RESPONSE_INVALID"/);
    assert.equal(checkState(page.body, "signature"), "failed");
    assert.deepEqual(await rowCounts(), before);
    const [event] = await testedEvent("Acme ADFS (bad signature)");
    assert.equal(event?.outcome, "failure");
    assert.equal(event?.reasonCode, "SSO_SAML_RESPONSE_INVALID");
    assert.equal((event?.detail as { check?: string } | undefined)?.check, "signature");
  });

  test("a signed assertion altered afterwards (another email) is refused by the signature check", async () => {
    const form = await openSetup();
    const started = await testFromSetup(form, "Acme ADFS (tampered)");
    const tampered = signedResponse(form.connectionId, started).replaceAll("dana@acme.test", "ceo@acme.test");
    const page = await answerAt(acsOf(form.connectionId).acsUrl, tampered, started.relayState);
    assert.match(page.body, /data-outcome="failure"/);
    assert.equal(checkState(page.body, "signature"), "failed");
    assert.doesNotMatch(page.body, /data-account=/);
  });

  test("a connection id the page did not give this organization is refused: no test, nothing written", async () => {
    const form = await openSetup();
    const forged = await admin.post(`${gh.url}${SAML_PATH}/test`, {
      _csrf: form.csrf,
      connectionId: randomUUID(),
      connectionIdProof: form.connectionIdProof,
      name: "Acme ADFS (forged id)",
      metadataSource: "xml",
      metadataXml: idp.metadataXml(),
      domains: "acme.test",
    });
    assert.equal(forged.status, 400);
    assert.match(forged.body, /data-error-code="REQUEST_INVALID"/);
    const rows = await gh.ctx.store.db.selectFrom("connection_tests").select("settings").execute();
    assert.ok(rows.every((r) => !r.settings?.includes("forged id")));
  });

  test("the test's answer posted to another id's ACS URL is refused with the state check", async () => {
    const form = await openSetup();
    const started = await testFromSetup(form, "Acme ADFS (other ACS)");
    const other = randomUUID();
    const page = await answerAt(acsOf(other).acsUrl, signedResponse(other, started), started.relayState);
    assert.match(page.body, /data-outcome="failure"/);
    assert.equal(checkState(page.body, "state"), "failed");
    const [event] = await testedEvent("Acme ADFS (other ACS)");
    assert.equal((event?.detail as { check?: string } | undefined)?.check, "state");
  });

  test("a RelayState no test or sign-in began, at an unsaved id's ACS URL, is refused and audited", async () => {
    const form = await openSetup();
    const back = await postToAcs(admin, acsOf(form.connectionId).acsUrl, {
      SAMLResponse: toPostField(
        signedResponse(form.connectionId, { testId: "", requestId: "_x", relayState: "" }),
      ),
      RelayState: "A".repeat(43),
    });
    assert.equal(back.status, 400);
    assert.match(back.body, /data-error-code="SSO_STATE_UNKNOWN"/);
    // Nobody's connection yet: the refusal is audited without an organization.
    const event = await gh.ctx.store.db
      .selectFrom("audit_events")
      .select(["reason_code", "detail"])
      .where("type", "=", "sign_in.sso")
      .where("reason_code", "=", "SSO_STATE_UNKNOWN")
      .executeTakeFirst();
    assert.ok(event, "the refusal is audited");
    assert.equal((JSON.parse(event.detail ?? "{}") as { check?: string }).check, "state");
  });

  test("an edit's values, before Save: the new IdP signs the test while the saved connection keeps its own", async () => {
    const previous = await createTestIdp("https://previous.idp.test/saml");
    const saved = await addSamlConnection(gh, organizationId, {
      metadataXml: previous.metadataXml(),
      name: "Acme Okta (edit)",
    });
    const editPage = await admin.get(`${gh.url}${SAML_PATH}/${saved.id}/edit`);
    assert.match(editPage.body, /data-testid="test-sign-in"/);
    const answer = await admin.post(`${gh.url}${SAML_PATH}/${saved.id}/edit/test`, {
      _csrf: csrfToken(editPage.body),
      name: "Acme Okta (edit)",
      metadataSource: "xml",
      metadataXml: idp.metadataXml(),
      domains: "acme.test",
    });
    assert.equal(answer.status, 303, answer.body.slice(0, 800));
    const started = await followToIdp(answer.location);
    const page = await answerAt(saved.acsUrl, signedResponse(saved.id, started), started.relayState);
    assert.match(page.body, /data-outcome="success"/);
    assert.match(page.body, new RegExp(`${SAML_PATH}/${saved.id}/edit\\?test=${started.testId}`));
    const stored = await findConnectionById(gh.ctx.store.db, saved.id);
    assert.equal(stored?.protocol === "saml" && stored.saml.entityId, previous.entityId, "not saved");
    // acme.test is free again for the next test's Create.
    await gh.ctx.store.db.deleteFrom("connections").where("id", "=", saved.id).execute();
  });

  test("through the API: POST /connections/{id}/test with PATCH's fields tests an edit of a SAML connection, nothing saved", async () => {
    const previous = await createTestIdp("https://previous-api.idp.test/saml");
    const saved = await addSamlConnection(gh, organizationId, {
      metadataXml: previous.metadataXml(),
      name: "Acme Okta (API edit)",
    });
    const apiKey = (await createApiKey(gh.ctx, "acme", "edit-test")).key;
    const response = await fetch(`${gh.url}/api/v1/connections/${saved.id}/test`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ metadataXml: idp.metadataXml() }),
    });
    const json = (await response.json()) as { url: string };
    assert.equal(response.status, 201, JSON.stringify(json));
    const started = await followToIdp(json.url);
    const page = await answerAt(saved.acsUrl, signedResponse(saved.id, started), started.relayState);
    assert.match(page.body, /data-outcome="success"/);
    const stored = await findConnectionById(gh.ctx.store.db, saved.id);
    assert.equal(stored?.protocol === "saml" && stored.saml.entityId, previous.entityId, "not saved");
    const oidcField = await fetch(`${gh.url}/api/v1/connections/${saved.id}/test`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ emailClaim: "upn" }),
    });
    assert.equal(oidcField.status, 400, "an OpenID Connect field on a SAML connection");
    await gh.ctx.store.db.deleteFrom("connections").where("id", "=", saved.id).execute();
  });

  test("through the API: POST /connections/test with type saml answers the ACS URL to register; Create with the same id keeps it", async () => {
    const apiKey = (await createApiKey(gh.ctx, "acme", "ci")).key;
    const post = (path: string, body: unknown) =>
      fetch(`${gh.url}/api/v1${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const values = {
      type: "saml",
      name: "Acme ADFS (API)",
      domains: ["acme.test"],
      metadataXml: idp.metadataXml(),
    };
    const before = await rowCounts();
    const response = await post("/connections/test", values);
    const json = (await response.json()) as {
      url: string;
      saml: { connectionId: string; connectionIdProof: string; acsUrl: string; spEntityId: string };
    };
    assert.equal(response.status, 201, JSON.stringify(json));
    assert.equal(json.saml.acsUrl, acsOf(json.saml.connectionId).acsUrl);
    assert.equal(json.saml.spEntityId, acsOf(json.saml.connectionId).spEntityId);
    const started = await followToIdp(json.url);
    const page = await answerAt(
      json.saml.acsUrl,
      signedResponse(json.saml.connectionId, started),
      started.relayState,
    );
    assert.match(page.body, /data-outcome="success"/);
    assert.deepEqual(await rowCounts(), before);

    const forged = await post("/connections", {
      ...values,
      connectionId: randomUUID(),
      connectionIdProof: json.saml.connectionIdProof,
    });
    assert.equal(forged.status, 400);
    assert.equal(((await forged.json()) as { code?: string }).code, "REQUEST_INVALID");

    const created = await post("/connections", {
      ...values,
      connectionId: json.saml.connectionId,
      connectionIdProof: json.saml.connectionIdProof,
    });
    const view = (await created.json()) as { id?: string; acsUrl?: string };
    assert.equal(created.status, 201, JSON.stringify(view));
    assert.equal(view.id, json.saml.connectionId);
    assert.equal(view.acsUrl, json.saml.acsUrl, "the ACS URL the IdP holds for the test");
  });
});
