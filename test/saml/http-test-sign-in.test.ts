/**
 * Test sign-in of a saved SAML connection: the admin's browser goes to the IdP with a signed
 * AuthnRequest and comes back through the ACS URL to the result page, which shows each check
 * and what a sign-in would produce, while Gatehouse writes no user, identity, membership or
 * session. A response the connection must refuse is reported with the check that failed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { inflateRawSync } from "node:zlib";
import { createApiKey } from "../../src/api/keys.js";
import { Browser, nameHeading, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";
import { composeResponse, createTestIdp, signAssertion, type TestIdp, toPostField } from "./hostile-idp.js";
import { addSamlConnection, postToAcs, type SamlConnectionFixture } from "./http-support.js";

const SAML_TEST_ENV = {
  GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "100000",
  GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "100000",
};

let gh: TestGatehouse;
let idp: TestIdp;
let attacker: TestIdp;
let connection: SamlConnectionFixture;
let apiKey: string;
let admin: Browser;

before(async () => {
  gh = await startGatehouse({ env: SAML_TEST_ENV });
  const { organizationId } = await seedAcme(gh);
  // The admin signs in with a password before the connection enforces SSO at acme.test.
  admin = new Browser();
  assert.equal((await passwordSignIn(admin, gh.url, ADMIN.email, ADMIN.password)).status, 303);
  idp = await createTestIdp();
  attacker = await createTestIdp();
  connection = await addSamlConnection(gh, organizationId, {
    metadataXml: idp.metadataXml(),
    name: "Acme ADFS",
  });
  apiKey = (await createApiKey(gh.ctx, "acme", "ci")).key;
});
after(async () => {
  await gh.close();
});

async function rowCounts() {
  const db = gh.ctx.store.db;
  const count = async (table: "users" | "identities" | "memberships" | "sessions") =>
    Number((await db.selectFrom(table).select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  return {
    users: await count("users"),
    identities: await count("identities"),
    memberships: await count("memberships"),
    sessions: await count("sessions"),
  };
}

/** Starts a test through the API and follows its URL to the IdP: the AuthnRequest's ID and RelayState. */
async function startTest(): Promise<{ requestId: string; relayState: string }> {
  const response = await fetch(`${gh.url}/api/v1/connections/${connection.id}/test`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: "{}",
  });
  const json = (await response.json()) as { url?: string };
  assert.equal(response.status, 201, JSON.stringify(json));
  assert.ok(json.url);
  const start = await admin.get(json.url);
  assert.ok(start.status === 302 || start.status === 303, `${start.status} ${start.body.slice(0, 300)}`);
  const url = new URL(start.location ?? "");
  assert.equal(`${url.origin}${url.pathname}`, idp.ssoUrl);
  const requestXml = inflateRawSync(
    Buffer.from(url.searchParams.get("SAMLRequest") ?? "", "base64"),
  ).toString();
  const requestId = /\bID="([^"]+)"/.exec(requestXml)?.[1];
  assert.ok(requestId);
  return { requestId, relayState: url.searchParams.get("RelayState") ?? "" };
}

async function respond(
  started: { requestId: string; relayState: string },
  key: TestIdp["key"],
  email: string,
  subject: { nameIdFormat?: string; attributes?: Record<string, string[]> } = {},
) {
  const xml = signAssertion(
    composeResponse({
      idp,
      acsUrl: connection.acsUrl,
      spEntityId: connection.entityId,
      requestId: started.requestId,
      now: new Date(gh.ctx.now()),
      nameId: email,
      attributes: { email: [email], displayName: ["Dana Example"] },
      ...subject,
    }),
    { key },
  );
  const back = await postToAcs(admin, connection.acsUrl, {
    SAMLResponse: toPostField(xml),
    RelayState: started.relayState,
  });
  assert.equal(back.status, 303, back.body.slice(0, 500));
  assert.ok(back.location?.includes("/tests/"), back.location);
  return admin.get(new URL(back.location ?? "", gh.url).toString());
}

function checkState(page: string, name: string): string | undefined {
  return new RegExp(`data-testid="test-check" data-check="${name}" data-state="([a-z-]+)"`).exec(page)?.[1];
}

describe("test sign-in of a SAML connection", () => {
  test("through the IdP and the ACS URL to the result page: the checks passed, the sign-in it would produce, nothing written", async () => {
    const before = await rowCounts();
    const page = await respond(await startTest(), idp.key, "dana@acme.test");
    assert.equal(page.status, 200);
    assert.match(page.body, /data-outcome="success"/);
    assert.match(page.body, /dana@acme\.test/);
    assert.match(page.body, /data-account="new"/);
    assert.equal(checkState(page.body, "signature"), "passed");
    assert.deepEqual(await rowCounts(), before, "no user, identity, membership or session");
  });

  test("an assertion signed by another key is reported as the signature check that failed", async () => {
    const before = await rowCounts();
    const page = await respond(await startTest(), attacker.key, "dana@acme.test");
    assert.equal(page.status, 200);
    assert.match(page.body, /data-outcome="failure"/);
    assert.equal(checkState(page.body, "signature"), "failed");
    // The checks run in order: those before the signature ran and passed, those after never ran.
    for (const earlier of ["message-size", "xml-well-formed", "status", "signature-algorithm"]) {
      assert.equal(checkState(page.body, earlier), "passed", earlier);
    }
    for (const later of ["issuer", "audience", "subject", "email"]) {
      assert.equal(checkState(page.body, later), "skipped", later);
    }
    // What an assertion Gatehouse did not accept says is not shown as the IdP's.
    assert.doesNotMatch(page.body, /data-testid="saml-attributes/);
    assert.deepEqual(await rowCounts(), before);
  });

  test("an assertion without an email: the failed check, and the attributes the IdP did send, headed Attribute", async () => {
    const before = await rowCounts();
    const page = await respond(await startTest(), idp.key, "8c2f0e7a-4d1b-4c55-9a0e-2b7d1f3c9e61", {
      nameIdFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
      attributes: { uid: ["dana"], "urn:oid:2.5.4.42": ["Dana"] },
    });
    assert.equal(page.status, 200);
    assert.match(page.body, /data-error-code="SSO_EMAIL_MISSING"/);
    assert.equal(checkState(page.body, "email"), "failed");
    assert.match(page.body, /set the connection&#39;s Email attribute|set the connection's Email attribute/);
    assert.match(page.body, /data-testid="saml-attributes-claims"/);
    assert.match(page.body, /data-testid="saml-attributes-sent-claims"/);
    // SAML speaks of attributes; "Claim" is OpenID Connect's word.
    assert.equal(nameHeading(page.body, "saml-attributes-claims"), "Attribute");
    assert.equal(nameHeading(page.body, "saml-attributes-sent-claims"), "Attribute");
    for (const sent of ["uid", "urn:oid:2.5.4.42", "8c2f0e7a-4d1b-4c55-9a0e-2b7d1f3c9e61"]) {
      assert.ok(page.body.includes(sent), sent);
    }
    assert.deepEqual(await rowCounts(), before);
  });
});
