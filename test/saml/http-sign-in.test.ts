/**
 * SAML sign-in end to end over HTTP: /sso/start routes a work email to the SAML connection that
 * owns its domain, Gatehouse redirects with a signed AuthnRequest, the IdP (the hostile test IdP
 * in its honest mode) posts its Response cross-site to the ACS URL, and the sign-in pipeline
 * starts a session. Then the hostile IdP breaks one rule at a time: each answer is refused with
 * a 4xx, no session, no user row, and an audit entry naming the check.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { findConnectionById } from "../../src/store/connections.js";
import { Browser, errorCode, errorRemedy } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";
import {
  ALG,
  composeResponse,
  createTestIdp,
  encryptAssertion,
  newId,
  type ResponseFields,
  signAssertion,
  signResponse,
  type TestIdp,
  toPostField,
} from "./hostile-idp.js";
import {
  addSamlConnection,
  beginSamlSignIn,
  lastSignInFailure,
  postToAcs,
  type SamlConnectionFixture,
  signedInEmail,
  userExists,
} from "./http-support.js";
import {
  EVIL_SUBJECT,
  needsSignedResponse,
  type WrappingLayout,
  wrapSignature,
} from "./signature-wrapping.js";

export const SAML_TEST_ENV = {
  GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "100000",
  GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "100000",
};

let gh: TestGatehouse;
let idp: TestIdp;
let attacker: TestIdp;
let organizationId: string;
let connection: SamlConnectionFixture;
let caseNumber = 0;

before(async () => {
  gh = await startGatehouse({ env: SAML_TEST_ENV });
  ({ organizationId } = await seedAcme(gh));
  idp = await createTestIdp();
  attacker = await createTestIdp();
  connection = await addSamlConnection(gh, organizationId, {
    metadataXml: idp.metadataXml(),
    name: "Acme ADFS",
  });
});
after(async () => {
  await gh.close();
});

/** A fresh address per case, so "no user row" means this case created none. */
function nextEmail(): string {
  caseNumber += 1;
  return `person${caseNumber}@acme.test`;
}

interface Attempt {
  browser: Browser;
  email: string;
  relayState: string;
  fields: ResponseFields;
}

async function begin(): Promise<Attempt> {
  const browser = new Browser();
  const email = nextEmail();
  const started = await beginSamlSignIn(browser, gh, email);
  assert.equal(`${started.url.origin}${started.url.pathname}`, idp.ssoUrl);
  return {
    browser,
    email,
    relayState: started.relayState,
    fields: {
      idp,
      acsUrl: connection.acsUrl,
      spEntityId: connection.entityId,
      requestId: started.requestId,
      now: new Date(gh.ctx.now()),
      nameId: email,
      attributes: { email: [email], displayName: ["Person Example"] },
    },
  };
}

/** Posts the response as the IdP would, with the sign-in's RelayState unless `null` (none). */
function post(attempt: Attempt, xml: string, relayState: string | null = attempt.relayState) {
  return postToAcs(attempt.browser, connection.acsUrl, {
    SAMLResponse: toPostField(xml),
    RelayState: relayState ?? undefined,
  });
}

async function spCertificate(): Promise<string> {
  const stored = await findConnectionById(gh.ctx.store.db, connection.id);
  assert.ok(stored?.protocol === "saml");
  return stored.saml.spCertificate;
}

/** Refused with this check: a 4xx page with the code, no session, no user, the audit names it. */
async function assertRefused(
  attempt: Attempt,
  answer: Awaited<ReturnType<typeof post>>,
  check: string,
  code = "SSO_SAML_RESPONSE_INVALID",
): Promise<void> {
  assert.ok(
    answer.status >= 400 && answer.status < 500,
    `status ${answer.status}: ${answer.body.slice(0, 300)}`,
  );
  assert.equal(errorCode(answer.body), code);
  assert.equal(await signedInEmail(attempt.browser, gh), undefined, "no session");
  assert.equal(await userExists(gh, attempt.email), false, "no user row");
  assert.equal(await userExists(gh, EVIL_SUBJECT), false, "no user row for the evil subject");
  const event = await lastSignInFailure(gh, organizationId);
  assert.equal(event?.reasonCode, code);
  assert.equal(event?.connectionId, connection.id);
  assert.equal(event?.detail?.check, check, "the audit names the check");
  assert.ok(event?.traceId && answer.body.includes(event.traceId), "the page shows the audit's trace id");
}

describe("SAML sign-in over HTTP", () => {
  test("the SP metadata is served at the connection's metadata URL (its entity ID)", async () => {
    const answer = await new Browser().get(connection.entityId);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get("content-type") ?? "", /application\/samlmetadata\+xml/);
    assert.match(answer.body, new RegExp(`entityID="${connection.entityId}"`));
    assert.match(answer.body, new RegExp(`Location="${connection.acsUrl}"`));
    assert.match(answer.body, new RegExp(`HTTP-Redirect" Location="${connection.sloUrl}"`));
    assert.ok(
      answer.body.includes((await spCertificate()).split("\n")[1] ?? "missing"),
      "publishes its certificate",
    );
    assert.equal((await new Browser().get(`${gh.url}/sso/saml/not-a-connection/metadata`)).status, 404);
  });

  test("a work email at the connection's domain starts a signed AuthnRequest with an opaque RelayState", async () => {
    const browser = new Browser();
    const started = await beginSamlSignIn(browser, gh, "alice@acme.test");
    assert.equal(started.url.searchParams.get("SigAlg"), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
    assert.ok(started.url.searchParams.get("Signature"));
    assert.match(started.relayState, /^[A-Za-z0-9_-]{43}$/);
    assert.match(started.requestXml, new RegExp(`AssertionConsumerServiceURL="${connection.acsUrl}"`));
    assert.doesNotMatch(started.requestXml, /ForceAuthn="true"/, "the IdP's session may answer");
  });

  test("signing in with another account asks the IdP to authenticate afresh (ForceAuthn)", async () => {
    const started = await beginSamlSignIn(new Browser(), gh, "alice@acme.test", { reauthenticate: true });
    assert.match(started.requestXml, /<samlp:AuthnRequest [^>]*ForceAuthn="true"/);
  });

  test("a signed assertion signs the person in and provisions them", async () => {
    const attempt = await begin();
    const xml = signAssertion(composeResponse(attempt.fields), { key: idp.key });
    const answer = await post(attempt, xml);
    assert.equal(answer.status, 303, answer.body.slice(0, 500));
    assert.equal(answer.location, `${gh.url}/`);
    assert.equal(await signedInEmail(attempt.browser, gh), attempt.email);
    assert.equal(await userExists(gh, attempt.email), true);
  });

  test("a signed and encrypted assertion signs the person in", async () => {
    const attempt = await begin();
    const signed = signAssertion(composeResponse(attempt.fields), { key: idp.key });
    const xml = await encryptAssertion(signed, await spCertificate());
    assert.doesNotMatch(xml, new RegExp(attempt.email));
    const answer = await post(attempt, xml);
    assert.equal(answer.status, 303, answer.body.slice(0, 500));
    assert.equal(await signedInEmail(attempt.browser, gh), attempt.email);
  });

  test("the response delivered to another browser is refused: the binding cookie is not there", async () => {
    const attempt = await begin();
    const xml = signAssertion(composeResponse(attempt.fields), { key: idp.key });
    const other = { ...attempt, browser: new Browser() };
    const answer = await post(other, xml);
    assert.equal(errorCode(answer.body), "SSO_BROWSER_MISMATCH");
    assert.equal(await signedInEmail(other.browser, gh), undefined);
    assert.equal(await userExists(gh, attempt.email), false);
  });

  test("the same response posted twice: the sign-in is already finished", async () => {
    const attempt = await begin();
    const xml = signAssertion(composeResponse(attempt.fields), { key: idp.key });
    assert.equal((await post(attempt, xml)).status, 303);
    const again = await post({ ...attempt, browser: new Browser() }, xml);
    assert.equal(errorCode(again.body), "SSO_STATE_REPLAYED");
  });
});

describe("the hostile IdP over HTTP: each broken rule refused, naming its check", () => {
  const wrapping: Record<WrappingLayout, string> = {
    1: "assertion-count",
    2: "assertion-count",
    3: "assertion-count",
    4: "assertion-count",
    5: "duplicate-id",
    6: "duplicate-id",
    7: "assertion-count",
    8: "duplicate-id",
  };
  for (const layout of [1, 2, 3, 4, 5, 6, 7, 8] as const) {
    test(`XSW${layout}`, async () => {
      const attempt = await begin();
      let signed = signAssertion(composeResponse(attempt.fields), { key: idp.key });
      if (needsSignedResponse(layout)) signed = signResponse(signed, { key: idp.key });
      const wrapped = wrapSignature(signed, layout);
      await assertRefused(attempt, await post(attempt, wrapped), wrapping[layout]);
    });
  }

  const cases: {
    name: string;
    check: string;
    build: (a: Attempt) => string | Promise<string>;
  }[] = [
    {
      name: "a comment inside the NameID",
      check: "comment-or-processing-instruction",
      build: (a) =>
        signAssertion(composeResponse({ ...a.fields, nameIdXml: `${a.email}<!---->.evil.test` }), {
          key: idp.key,
        }),
    },
    {
      name: "a processing instruction inside the NameID",
      check: "comment-or-processing-instruction",
      build: (a) =>
        signAssertion(composeResponse({ ...a.fields, nameIdXml: `${a.email}<?x y?>.evil.test` }), {
          key: idp.key,
        }),
    },
    { name: "an unsigned assertion", check: "signature", build: (a) => composeResponse(a.fields) },
    {
      name: "a signature by another key",
      check: "signature",
      build: (a) => signAssertion(composeResponse(a.fields), { key: attacker.key }),
    },
    {
      name: "a certificate swapped into KeyInfo",
      check: "signature",
      build: (a) =>
        signAssertion(composeResponse({ ...a.fields, nameId: EVIL_SUBJECT }), {
          key: attacker.key,
          keyInfoCertificate: attacker.key.certificatePem,
        }),
    },
    {
      name: "RSA-SHA1",
      check: "signature-algorithm",
      build: (a) =>
        signAssertion(composeResponse(a.fields), {
          key: idp.key,
          signatureAlgorithm: ALG.rsaSha1,
          digestAlgorithm: ALG.sha1,
        }),
    },
    {
      name: "an expired assertion",
      check: "not-on-or-after",
      build: (a) =>
        signAssertion(
          composeResponse({ ...a.fields, notOnOrAfter: new Date(a.fields.now.getTime() - 3 * 60_000) }),
          {
            key: idp.key,
          },
        ),
    },
    {
      name: "an assertion not yet valid",
      check: "not-before",
      build: (a) =>
        signAssertion(
          composeResponse({ ...a.fields, notBefore: new Date(a.fields.now.getTime() + 4 * 60_000) }),
          {
            key: idp.key,
          },
        ),
    },
    {
      name: "a wrong audience",
      check: "audience",
      build: (a) =>
        signAssertion(composeResponse({ ...a.fields, audience: "https://other-sp.test" }), { key: idp.key }),
    },
    {
      name: "a wrong recipient",
      check: "recipient",
      build: (a) =>
        signAssertion(composeResponse({ ...a.fields, recipient: "https://other-sp.test/acs" }), {
          key: idp.key,
        }),
    },
    {
      name: "a wrong destination",
      check: "destination",
      build: (a) =>
        signAssertion(composeResponse({ ...a.fields, destination: "https://other-sp.test/acs" }), {
          key: idp.key,
        }),
    },
    {
      name: "a wrong issuer",
      check: "issuer",
      build: (a) =>
        signAssertion(composeResponse({ ...a.fields, issuer: "https://evil-idp.test" }), { key: idp.key }),
    },
    {
      name: "a wrong InResponseTo",
      check: "in-response-to",
      build: (a) => signAssertion(composeResponse({ ...a.fields, requestId: newId() }), { key: idp.key }),
    },
    {
      name: "an unsolicited response to a sign-in Gatehouse began",
      check: "unsolicited",
      build: (a) => signAssertion(composeResponse({ ...a.fields, requestId: undefined }), { key: idp.key }),
    },
    {
      name: "a DOCTYPE with entity expansion",
      check: "doctype",
      build: (a) =>
        `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>${signAssertion(composeResponse(a.fields), { key: idp.key }).replace(`>${a.email}<`, ">&b;<")}`,
    },
  ];
  // Checks of what the connection trusts and names (its IdP's certificate, entity IDs, ACS
  // URL): the person is told trying again will not help until the administrator fixes it.
  const connectionChecks = new Set([
    "signature",
    "signature-algorithm",
    "audience",
    "recipient",
    "destination",
    "issuer",
  ]);
  for (const c of cases) {
    const remedy = connectionChecks.has(c.check) ? "administrator" : "retry";
    test(`${c.name} (${remedy === "retry" ? "trying again may help" : "until the administrator fixes the connection"})`, async () => {
      const attempt = await begin();
      const answer = await post(attempt, await c.build(attempt));
      await assertRefused(attempt, answer, c.check);
      assert.equal(errorRemedy(answer.body), remedy);
    });
  }

  test("a replayed assertion (its ID already accepted) is refused", async () => {
    const first = await begin();
    const assertionId = newId();
    const xml = signAssertion(composeResponse({ ...first.fields, assertionId }), { key: idp.key });
    assert.equal((await post(first, xml)).status, 303);
    const second = await begin();
    const replay = signAssertion(composeResponse({ ...second.fields, assertionId }), { key: idp.key });
    await assertRefused(second, await post(second, replay), "replay");
  });

  test("an oversized body is refused before decoding", async () => {
    const attempt = await begin();
    const field = "A".repeat(400 * 1024);
    const answer = await postToAcs(attempt.browser, connection.acsUrl, {
      SAMLResponse: field,
      RelayState: attempt.relayState,
    });
    await assertRefused(attempt, answer, "message-size");
  });

  test("a body larger than the ACS accepts is refused before the form is parsed, never a 500", async () => {
    const answer = await new Browser().post(connection.acsUrl, { SAMLResponse: "A".repeat(2 * 1024 * 1024) });
    assert.equal(answer.status, 413);
    const event = await lastSignInFailure(gh, organizationId);
    assert.equal(event?.reasonCode, "SSO_SAML_RESPONSE_INVALID");
    assert.equal(event?.connectionId, connection.id);
    assert.equal(event?.detail?.check, "message-size", "the audit names the check");
  });

  test("a deflate bomb posted as a SAMLResponse is not inflated: refused as not UTF-8", async () => {
    const attempt = await begin();
    const { deflateRawSync } = await import("node:zlib");
    const bomb = deflateRawSync(Buffer.alloc(50 * 1024 * 1024, 0x20)).toString("base64");
    const answer = await postToAcs(attempt.browser, connection.acsUrl, {
      SAMLResponse: bomb,
      RelayState: attempt.relayState,
    });
    await assertRefused(attempt, answer, "message-encoding");
  });

  test("a response without RelayState at a connection that refuses IdP-initiated sign-in", async () => {
    const attempt = await begin();
    const xml = signAssertion(composeResponse({ ...attempt.fields, requestId: undefined }), { key: idp.key });
    const answer = await post(attempt, xml, null);
    assert.equal(errorCode(answer.body), "SSO_STATE_MISSING");
    assert.equal(await signedInEmail(attempt.browser, gh), undefined);
    assert.equal(await userExists(gh, attempt.email), false);
    const event = await lastSignInFailure(gh, organizationId);
    assert.equal(event?.reasonCode, "SSO_STATE_MISSING");
  });
});
