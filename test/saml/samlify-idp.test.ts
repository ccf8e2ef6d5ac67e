/**
 * The positive path against a SAML IdP that Gatehouse's tests did not write: samlify's
 * IdentityProvider (an independent implementation on npm). It publishes its own metadata,
 * parses and verifies Gatehouse's signed AuthnRequest from the Redirect binding, and answers
 * with its own Response template, signed and, when the connection's SP metadata asks for it,
 * encrypted to the connection's key.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as samlify from "samlify";
import { buildAuthnRequest } from "../../src/sso/saml/authn-request.js";
import { isSamlCheckError } from "../../src/sso/saml/checks.js";
import {
  generateSpMetadata,
  type ServiceProvider,
  serviceProviderUrls,
} from "../../src/sso/saml/service-provider.js";
import { validateSamlSettings } from "../../src/sso/saml/settings.js";
import { generateSpKeyPair, type SpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { validateSamlResponse } from "../../src/sso/saml/validate-response.js";

const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

// samlify asks for an XML Schema validator before it parses anything. Its validators need Java
// or WebAssembly; schema validation of our own AuthnRequest is not what these tests prove.
samlify.setSchemaValidator({ validate: () => Promise.resolve("skipped") });

let idpKey: SpKeyPair;
let sp: ServiceProvider;
before(async () => {
  idpKey = await generateSpKeyPair({ commonName: "samlify idp" });
  sp = {
    ...serviceProviderUrls("https://gatehouse.test", "conn_samlify"),
    keyPair: await generateSpKeyPair({ commonName: "gatehouse sp" }),
  };
});

function samlifyIdp(encrypted: boolean) {
  return samlify.IdentityProvider({
    entityID: "https://samlify-idp.test/metadata",
    privateKey: idpKey.privateKeyPem,
    signingCert: idpKey.certificatePem,
    // Lets samlify verify the Redirect-binding signature of our AuthnRequest.
    wantAuthnRequestsSigned: true,
    isAssertionEncrypted: encrypted,
    nameIDFormat: [EMAIL_FORMAT],
    singleSignOnService: [{ Binding: REDIRECT, Location: "https://samlify-idp.test/sso" }],
  });
}

async function signInThroughSamlify(encrypted: boolean) {
  const idp = samlifyIdp(encrypted);
  const spEntity = samlify.ServiceProvider({ metadata: generateSpMetadata(sp) });
  const settings = validateSamlSettings({ metadataXml: idp.getMetadata() });
  assert.equal(settings.idp.entityId, "https://samlify-idp.test/metadata");

  const start = await buildAuthnRequest({ settings, sp, relayState: "tx_samlify" });
  const url = new URL(start.url);
  assert.equal(`${url.origin}${url.pathname}`, "https://samlify-idp.test/sso");
  // The signed octets are the raw query parameters, as the browser delivers them.
  const raw = url.search.slice(1).split("&");
  const octetString = ["SAMLRequest", "RelayState", "SigAlg"]
    .map((name) => raw.find((p) => p.startsWith(`${name}=`)))
    .filter(Boolean)
    .join("&");
  const { extract } = await idp.parseLoginRequest(spEntity, "redirect", {
    query: Object.fromEntries(url.searchParams),
    octetString,
  });
  assert.equal(extract.request?.id, start.requestId, "samlify read our request ID");

  const { context } = await idp.createLoginResponse(spEntity, { extract }, "post", {
    email: "alice@acme.test",
  });
  const pending = new Set([start.requestId]);
  const seen = new Set<string>();
  const validate = () =>
    validateSamlResponse({
      samlResponse: context,
      settings,
      sp,
      requestIds: (id) => pending.delete(id),
      rememberAssertionId: (id) => !seen.has(id) && Boolean(seen.add(id)),
    });
  return { context, start, validate, pending };
}

describe("samlify as the identity provider", () => {
  test("a signed assertion signs the user in", async () => {
    const { context, start, validate, pending } = await signInThroughSamlify(false);
    const xml = Buffer.from(context, "base64").toString("utf8");
    assert.match(xml, /<saml:Assertion[\s\S]*<ds:Signature/, "samlify signed the assertion");
    const assertion = await validate();
    assert.equal(assertion.email, "alice@acme.test");
    assert.equal(assertion.subject, "alice@acme.test");
    assert.equal(assertion.nameIdFormat, EMAIL_FORMAT);
    assert.equal(assertion.inResponseTo, start.requestId);
    assert.equal(pending.size, 0, "the request ID was consumed");
  });

  test("an encrypted assertion signs the user in", async () => {
    const { context, validate } = await signInThroughSamlify(true);
    const xml = Buffer.from(context, "base64").toString("utf8");
    assert.match(xml, /EncryptedAssertion/);
    assert.doesNotMatch(xml, /alice@acme\.test/, "the identity is not readable in transit");
    const assertion = await validate();
    assert.equal(assertion.email, "alice@acme.test");
  });

  test("the same response a second time is refused: its request was already answered", async () => {
    const { validate } = await signInThroughSamlify(false);
    await validate();
    await assert.rejects(validate(), (e: unknown) => isSamlCheckError(e) && e.check === "in-response-to");
  });
});
