/**
 * The hostile SAML IdP breaks one rule at a time; each response is refused with the check that
 * names the rule, and no assertion comes out. The first tests prove the same IdP's correct
 * response is accepted, so every refusal below is the broken rule's doing.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { deflateRawSync } from "node:zlib";
import { decodeRedirectMessage } from "../../src/sso/saml/inbound-message.js";
import { generateSpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { validateSamlResponse } from "../../src/sso/saml/validate-response.js";
import {
  ALG,
  composeResponse,
  encryptAssertion,
  signAssertion,
  signResponse,
  toPostField,
} from "./hostile-idp.js";
import {
  EVIL_SUBJECT,
  needsSignedResponse,
  type WrappingLayout,
  wrapSignature,
} from "./signature-wrapping.js";
import { assertRefused, NOW, REQUEST_ID, type SamlHarness, startSamlHarness } from "./support.js";

let h: SamlHarness;
let attacker: Awaited<ReturnType<typeof generateSpKeyPair>>;
before(async () => {
  h = await startSamlHarness();
  attacker = await generateSpKeyPair({ commonName: "attacker" });
});

describe("a correct response", () => {
  test("a signed assertion gives the neutral assertion", async () => {
    const assertion = await h.validate(
      h.signedResponse({
        attributes: {
          email: ["alice@acme.test"],
          displayName: ["Alice Example"],
          groups: ["admins", "staff"],
        },
      }),
    );
    assert.equal(assertion.subject, "alice@acme.test");
    assert.equal(assertion.email, "alice@acme.test");
    assert.equal(assertion.emailVerified, true);
    assert.equal(assertion.name, "Alice Example");
    assert.deepEqual(assertion.groups, ["admins", "staff"]);
    assert.equal(assertion.sessionIndex, "_session-1");
    assert.equal(assertion.inResponseTo, REQUEST_ID);
    assert.equal(assertion.issuer, h.idp.entityId);
    assert.ok(h.seen.has(assertion.assertionId), "the assertion ID was handed to the replay store");
    assert.equal(assertion.notOnOrAfter.toISOString(), new Date(NOW.getTime() + 5 * 60_000).toISOString());
  });

  test("a signed Response around a signed assertion is accepted", async () => {
    const xml = signResponse(h.signedResponse(), { key: h.idp.key });
    assert.equal((await h.validate(xml)).email, "alice@acme.test");
  });

  test("an encrypted assertion (AES-256-CBC, RSA-OAEP) is decrypted with the connection's key", async () => {
    const xml = await encryptAssertion(h.signedResponse(), h.sp.keyPair.certificatePem);
    assert.match(xml, /EncryptedAssertion/);
    assert.doesNotMatch(xml, /alice@acme\.test/);
    assert.equal((await h.validate(xml)).email, "alice@acme.test");
  });

  test("an encrypted assertion with AES-256-GCM is accepted", async () => {
    const xml = await encryptAssertion(h.signedResponse(), h.sp.keyPair.certificatePem, {
      content: "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    });
    assert.equal((await h.validate(xml)).email, "alice@acme.test");
  });

  test("the second certificate of a rollover verifies too", async () => {
    const next = await generateSpKeyPair({ commonName: "next idp key" });
    const rollover = await startSamlHarness();
    const settings = {
      ...rollover.settings,
      idp: {
        ...rollover.settings.idp,
        signingCertificates: [...rollover.settings.idp.signingCertificates, next.certificatePem],
      },
    };
    const xml = signAssertion(composeResponse(rollover.fields()), { key: next });
    const assertion = await validateSamlResponse({
      samlResponse: toPostField(xml),
      settings,
      sp: rollover.sp,
      requestIds: new Set([REQUEST_ID]),
      rememberAssertionId: () => true,
      now: NOW,
    });
    assert.equal(assertion.email, "alice@acme.test");
  });

  test("clock skew up to the allowance is accepted on both ends", async () => {
    await h.validate(h.signedResponse({ notBefore: new Date(NOW.getTime() + 60_000) }));
    await h.validate(h.signedResponse({ notOnOrAfter: new Date(NOW.getTime() - 60_000) }));
  });

  test("the InResponseTo callback is asked once and may consume the ID", async () => {
    const asked: string[] = [];
    await validateSamlResponse({
      samlResponse: toPostField(h.signedResponse()),
      settings: h.settings,
      sp: h.sp,
      requestIds: (id) => {
        asked.push(id);
        return true;
      },
      rememberAssertionId: () => true,
      now: NOW,
    });
    assert.deepEqual(asked, [REQUEST_ID]);
  });
});

describe("XML signature wrapping", () => {
  const expected: Record<WrappingLayout, "assertion-count" | "duplicate-id"> = {
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
    test(`XSW${layout} is refused (${expected[layout]})`, async () => {
      let signed = h.signedResponse();
      if (needsSignedResponse(layout)) signed = signResponse(signed, { key: h.idp.key });
      const wrapped = wrapSignature(signed, layout);
      assert.match(wrapped, new RegExp(EVIL_SUBJECT), "the evil subject is in the message");
      await assertRefused(h.validate(wrapped), expected[layout]);
    });
  }
});

describe("the NameID read is the NameID signed", () => {
  test("a comment inside the NameID is refused", async () => {
    const xml = h.signedResponse({ nameIdXml: "alice@acme.test<!---->.evil.test" });
    await assertRefused(h.validate(xml), "comment-or-processing-instruction");
  });

  test("a processing instruction inside the NameID is refused", async () => {
    const xml = h.signedResponse({ nameIdXml: "alice@acme.test<?x y?>.evil.test" });
    await assertRefused(h.validate(xml), "comment-or-processing-instruction");
  });
});

describe("the NameID names the same person at every sign-in", () => {
  // SimpleSAMLphp sends one when it is not told which attribute fills the NameID: the first
  // sign-in worked and the second was refused as another person holding the address.
  test("a transient NameID is refused: it cannot identify a returning person", async () => {
    const xml = h.signedResponse({
      nameId: "_6c3a4f8b9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b",
      nameIdFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    });
    await assertRefused(h.validate(xml), "subject");
  });
});

describe("signatures", () => {
  test("an unsigned assertion is refused", async () => {
    await assertRefused(h.validate(composeResponse(h.fields())), "signature");
  });

  test("a signed Response around an unsigned assertion is refused", async () => {
    const xml = signResponse(composeResponse(h.fields()), { key: h.idp.key });
    await assertRefused(h.validate(xml), "signature");
  });

  test("a Response signed by another key around a valid assertion is refused", async () => {
    const xml = signResponse(h.signedResponse(), { key: attacker });
    await assertRefused(h.validate(xml), "signature");
  });

  test("a signature by another key is refused", async () => {
    const xml = signAssertion(composeResponse(h.fields()), { key: attacker });
    await assertRefused(h.validate(xml), "signature");
  });

  test("a certificate swapped into KeyInfo is not trusted", async () => {
    // Signed by the attacker, whose certificate rides along in KeyInfo: only configured ones count.
    const xml = signAssertion(composeResponse(h.fields({ nameId: EVIL_SUBJECT })), {
      key: attacker,
      keyInfoCertificate: attacker.certificatePem,
    });
    assert.match(xml, /X509Certificate/);
    await assertRefused(h.validate(xml), "signature");
  });

  test("the IdP's certificate in KeyInfo on an attacker's signature is refused", async () => {
    const xml = signAssertion(composeResponse(h.fields()), {
      key: attacker,
      keyInfoCertificate: h.idp.key.certificatePem,
    });
    await assertRefused(h.validate(xml), "signature");
  });

  test("a changed value under a valid signature is refused", async () => {
    const xml = h
      .signedResponse()
      .replace(">alice@acme.test</saml:NameID>", `>${EVIL_SUBJECT}</saml:NameID>`);
    assert.match(xml, new RegExp(EVIL_SUBJECT));
    await assertRefused(h.validate(xml), "signature");
  });

  test("RSA-SHA1 is refused", async () => {
    const xml = signAssertion(composeResponse(h.fields()), {
      key: h.idp.key,
      signatureAlgorithm: ALG.rsaSha1,
      digestAlgorithm: ALG.sha1,
    });
    await assertRefused(h.validate(xml), "signature-algorithm");
  });

  test("a SHA-1 digest under an RSA-SHA256 signature is refused", async () => {
    const xml = signAssertion(composeResponse(h.fields()), { key: h.idp.key, digestAlgorithm: ALG.sha1 });
    await assertRefused(h.validate(xml), "signature-algorithm");
  });

  test("SHA-1 inside an encrypted assertion is refused", async () => {
    const signed = signAssertion(composeResponse(h.fields()), {
      key: h.idp.key,
      signatureAlgorithm: ALG.rsaSha1,
    });
    const xml = await encryptAssertion(signed, h.sp.keyPair.certificatePem);
    await assertRefused(h.validate(xml), "signature-algorithm");
  });

  test("an encrypted assertion that is not signed is refused", async () => {
    const xml = await encryptAssertion(composeResponse(h.fields()), h.sp.keyPair.certificatePem);
    await assertRefused(h.validate(xml), "signature");
  });
});

describe("encryption", () => {
  test("RSA 1.5 key transport is refused", async () => {
    const xml = await encryptAssertion(h.signedResponse(), h.sp.keyPair.certificatePem, {
      key: "http://www.w3.org/2001/04/xmlenc#rsa-1_5",
    });
    await assertRefused(h.validate(xml), "encryption-algorithm");
  });

  test("an assertion encrypted to another key is refused", async () => {
    const xml = await encryptAssertion(h.signedResponse(), attacker.certificatePem);
    await assertRefused(h.validate(xml), "decryption");
  });
});

describe("conditions", () => {
  test("an expired assertion is refused", async () => {
    const xml = h.signedResponse({ notOnOrAfter: new Date(NOW.getTime() - 3 * 60_000) });
    await assertRefused(h.validate(xml), "not-on-or-after");
  });

  test("an assertion not yet valid is refused", async () => {
    const xml = h.signedResponse({ notBefore: new Date(NOW.getTime() + 3 * 60_000) });
    await assertRefused(h.validate(xml), "not-before");
  });

  test("the clock skew allowance is never more than 3 minutes", async () => {
    const xml = h.signedResponse({ notOnOrAfter: new Date(NOW.getTime() - 4 * 60_000) });
    await assertRefused(
      validateSamlResponse({
        samlResponse: toPostField(xml),
        settings: h.settings,
        sp: h.sp,
        requestIds: new Set([REQUEST_ID]),
        rememberAssertionId: () => true,
        now: NOW,
        clockSkewSeconds: 3600,
      }),
      "not-on-or-after",
    );
  });

  test("a wrong audience is refused", async () => {
    await assertRefused(
      h.validate(h.signedResponse({ audience: "https://other-sp.test/metadata" })),
      "audience",
    );
  });

  test("a wrong recipient is refused", async () => {
    await assertRefused(
      h.validate(h.signedResponse({ recipient: "https://other-sp.test/acs" })),
      "recipient",
    );
  });

  test("a wrong destination is refused", async () => {
    await assertRefused(
      h.validate(h.signedResponse({ destination: "https://other-sp.test/acs" })),
      "destination",
    );
  });

  test("a missing destination is refused", async () => {
    await assertRefused(h.validate(h.signedResponse({ destination: null })), "destination");
  });

  test("a wrong issuer is refused", async () => {
    await assertRefused(h.validate(h.signedResponse({ issuer: "https://idp.other.test" })), "issuer");
  });

  test("a wrong issuer on the Response is refused", async () => {
    await assertRefused(h.validate(h.signedResponse({ responseIssuer: "https://idp.other.test" })), "issuer");
  });

  test("a status other than Success is refused", async () => {
    const xml = h.signedResponse({ statusCode: "urn:oasis:names:tc:SAML:2.0:status:Responder" });
    await assertRefused(h.validate(xml), "status");
  });
});

describe("requests and replays", () => {
  test("a replayed assertion is refused the second time", async () => {
    const xml = h.signedResponse();
    await h.validate(xml);
    await assertRefused(h.validate(xml), "replay");
  });

  test("an unsolicited response is refused", async () => {
    await assertRefused(h.validate(h.signedResponse({ requestId: undefined })), "unsolicited");
  });

  test("an unsolicited response is accepted when the connection allows IdP-initiated sign-in, once", async () => {
    const open = await startSamlHarness({ allowIdpInitiated: true });
    const xml = open.signedResponse({ requestId: undefined });
    const assertion = await open.validate(xml);
    assert.equal(assertion.inResponseTo, undefined);
    await assertRefused(open.validate(xml), "replay");
  });

  test("a wrong InResponseTo is refused", async () => {
    await assertRefused(
      h.validate(h.signedResponse({ requestId: "_not-a-request-we-sent" })),
      "in-response-to",
    );
  });

  test("an InResponseTo on the Response that differs from the assertion's is refused", async () => {
    const xml = h.signedResponse({ responseInResponseTo: "_another-request" });
    await assertRefused(h.validate(xml), "in-response-to");
  });

  test("a request ID already consumed is refused", async () => {
    await assertRefused(h.validate(h.signedResponse(), { requestIds: new Set() }), "in-response-to");
  });
});

describe("bytes before the parser", () => {
  test("a DOCTYPE with entity expansion is refused before parsing", async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>`;
    const xml = bomb + h.signedResponse({ nameIdXml: "&b;" });
    await assertRefused(h.validate(xml), "doctype");
  });

  test("an external entity is refused before parsing", async () => {
    const xml = `<!DOCTYPE r SYSTEM "file:///etc/passwd">${h.signedResponse()}`;
    await assertRefused(h.validate(xml), "doctype");
  });

  test("an oversized body is refused before decoding", async () => {
    const huge = "A".repeat(2 * 1024 * 1024);
    await assertRefused(h.validate(huge, { raw: true }), "message-size");
  });

  test("a body just over the decoded cap is refused", async () => {
    const xml = h.signedResponse({
      attributes: { email: ["alice@acme.test"], padding: ["x".repeat(300 * 1024)] },
    });
    await assertRefused(h.validate(xml), "message-size");
  });

  test("UTF-16 is refused", async () => {
    const xml = Buffer.from(`\ufeff${h.signedResponse()}`, "utf16le").toString("base64");
    await assertRefused(h.validate(xml, { raw: true }), "message-encoding");
  });

  test("a body that is not base64 is refused", async () => {
    await assertRefused(h.validate("<samlp:Response/>", { raw: true }), "message-encoding");
  });

  test("a deflate bomb on the Redirect binding stops at the cap", () => {
    const bomb = deflateRawSync(Buffer.alloc(50 * 1024 * 1024, 0x20)).toString("base64");
    assert.ok(bomb.length < 200 * 1024, "the bomb itself is small");
    assert.throws(
      () => decodeRedirectMessage(bomb),
      (error: unknown) => (error as { check?: string }).check === "message-size",
    );
  });

  test("a Redirect message under the cap inflates", () => {
    const message = deflateRawSync(
      Buffer.from('<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'),
    );
    assert.match(decodeRedirectMessage(message.toString("base64")), /LogoutResponse/);
  });

  test("a malformed document is refused", async () => {
    await assertRefused(h.validate("<samlp:Response><unclosed></samlp:Response>"), "xml-well-formed");
  });

  test("a message that is not a Response is refused", async () => {
    await assertRefused(
      h.validate('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x"/>'),
      "message-type",
    );
  });
});
