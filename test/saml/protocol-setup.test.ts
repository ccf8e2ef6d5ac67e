/**
 * The parts of the SAML module an admin's setup and a sign-in start go through: IdP metadata,
 * settings by hand, the SP's metadata, key pair and AuthnRequest.
 */
import assert from "node:assert/strict";
import { createVerify, X509Certificate } from "node:crypto";
import { before, describe, test } from "node:test";
import { isGatehouseError } from "../../src/errors.js";
import { buildAuthnRequest } from "../../src/sso/saml/authn-request.js";
import { isSamlCheckError } from "../../src/sso/saml/checks.js";
import { parseIdpMetadata } from "../../src/sso/saml/idp-metadata.js";
import { decodeRedirectMessage, parseXml } from "../../src/sso/saml/inbound-message.js";
import { relayStateReturnTo } from "../../src/sso/saml/relay-state.js";
import { generateSpMetadata, serviceProviderUrls } from "../../src/sso/saml/service-provider.js";
import { validateSamlSettings } from "../../src/sso/saml/settings.js";
import { generateSpKeyPair, type SpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { idpMetadata } from "./hostile-idp.js";
import { type SamlHarness, startSamlHarness } from "./support.js";

let h: SamlHarness;
let rollover: SpKeyPair;
before(async () => {
  h = await startSamlHarness();
  rollover = await generateSpKeyPair({ commonName: "rollover" });
});

describe("IdP metadata", () => {
  test("entity ID, Redirect SSO URL, SLO URL and every signing certificate are read", () => {
    const metadata = parseIdpMetadata(h.idp.metadataXml([rollover.certificatePem]));
    assert.equal(metadata.entityId, h.idp.entityId);
    assert.equal(metadata.ssoUrl, h.idp.ssoUrl);
    assert.equal(metadata.ssoBinding, "redirect");
    assert.equal(metadata.sloUrl, h.idp.sloUrl);
    assert.equal(metadata.signingCertificates.length, 2);
    assert.equal(
      new X509Certificate(metadata.signingCertificates[1]!).fingerprint256,
      new X509Certificate(rollover.certificatePem).fingerprint256,
    );
  });

  test("a SingleLogoutService's ResponseLocation is read as where logout responses go", () => {
    const plain = parseIdpMetadata(h.idp.metadataXml());
    assert.equal(plain.sloResponseUrl, undefined, "none named: responses go to the Location");
    const xml = h.idp
      .metadataXml()
      .replace(
        `Location="${h.idp.sloUrl}"`,
        `Location="${h.idp.sloUrl}" ResponseLocation="${h.idp.sloUrl}/return"`,
      );
    const metadata = parseIdpMetadata(xml);
    assert.equal(metadata.sloUrl, h.idp.sloUrl);
    assert.equal(metadata.sloResponseUrl, `${h.idp.sloUrl}/return`);
  });

  test("encryption-only keys are not signing certificates", () => {
    const xml = h.idp.metadataXml().replace('use="signing"', 'use="encryption"');
    assert.throws(
      () => parseIdpMetadata(xml),
      (e: unknown) => isSamlCheckError(e) && e.check === "metadata",
    );
  });

  test("a KeyDescriptor without use is a signing key (SAML metadata 2.4.1.1)", () => {
    const xml = h.idp.metadataXml().replace(' use="signing"', "");
    assert.equal(parseIdpMetadata(xml).signingCertificates.length, 1);
  });

  test("an EntitiesDescriptor with one IdP is read", () => {
    const inner = h.idp.metadataXml().replace(/^<\?xml[^>]*\?>/, "");
    const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${inner}</md:EntitiesDescriptor>`;
    assert.equal(parseIdpMetadata(xml).entityId, h.idp.entityId);
  });

  const broken: Array<[string, string]> = [
    ["not metadata", "<html><body>Sign in</body></html>"],
    ["not XML", "https://idp.example.com/metadata"],
    ["a DOCTYPE", `<!DOCTYPE x [<!ENTITY a "b">]>${h?.idp.metadataXml() ?? "<x/>"}`],
  ];
  for (const [what, xml] of broken) {
    test(`metadata that is ${what} is refused`, () => {
      assert.throws(() => parseIdpMetadata(xml), isSamlCheckError);
    });
  }

  test("a 1024-bit RSA signing certificate is refused", async () => {
    const short = await generateSpKeyPair({ commonName: "short", modulusLength: 1024 });
    const xml = idpMetadata({
      entityId: "https://x.test",
      ssoUrl: "https://x.test/sso",
      certificates: [short.certificatePem],
    });
    assert.throws(
      () => parseIdpMetadata(xml),
      (e: unknown) => isSamlCheckError(e) && e.check === "metadata" && e.received === "rsa 1024",
    );
  });

  test("a certificate that is not one is refused", () => {
    const xml = idpMetadata({
      entityId: "https://x.test",
      ssoUrl: "https://x.test/sso",
      certificates: ["AAAA"],
    });
    assert.throws(
      () => parseIdpMetadata(xml),
      (e: unknown) => isSamlCheckError(e) && e.check === "metadata",
    );
  });

  test("no SSO endpoint for a known binding is refused", () => {
    const xml = h.idp.metadataXml().replace(/<md:SingleSignOnService[^>]*\/>/g, "");
    assert.throws(
      () => parseIdpMetadata(xml),
      (e: unknown) => isSamlCheckError(e) && e.check === "metadata",
    );
  });
});

describe("settings", () => {
  test("metadata XML gives normalized settings", () => {
    const settings = validateSamlSettings({ metadataXml: h.idp.metadataXml(), groupsAttribute: "memberOf" });
    assert.equal(settings.idp.entityId, h.idp.entityId);
    assert.equal(settings.allowIdpInitiated, false);
    assert.deepEqual(settings.attributes, { groups: "memberOf" });
  });

  test("entity ID, SSO URL and several PEM certificates by hand", () => {
    const settings = validateSamlSettings({
      entityId: "https://idp.acme.test",
      ssoUrl: "https://idp.acme.test/sso",
      certificates: `${h.idp.key.certificatePem}\n${rollover.certificatePem}`,
    });
    assert.equal(settings.idp.signingCertificates.length, 2);
    assert.equal(settings.idp.ssoBinding, "redirect");
  });

  test("a bare base64 certificate, as IdP consoles show it, is accepted", () => {
    const bare = h.idp.key.certificatePem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    const settings = validateSamlSettings({
      entityId: "https://i.test",
      ssoUrl: "https://i.test/sso",
      certificates: [bare],
    });
    assert.equal(
      settings.idp.signingCertificates[0],
      new X509Certificate(h.idp.key.certificatePem).toString(),
    );
  });

  test("each missing or wrong field is reported by name", () => {
    assert.throws(
      () =>
        validateSamlSettings({
          ssoUrl: "http://idp.acme.test/sso",
          certificates: "not a cert",
          emailAttribute: "a b",
        }),
      (error: unknown) => {
        assert.ok(isGatehouseError(error));
        assert.equal(error.code, "VALIDATION_FAILED");
        assert.deepEqual(Object.keys(error.fields ?? {}).sort(), [
          "certificates",
          "emailAttribute",
          "entityId",
        ]);
        return true;
      },
    );
  });

  test("an http: SSO URL is refused unless insecure URLs are allowed", () => {
    const input = {
      entityId: "https://i.test",
      ssoUrl: "http://i.test/sso",
      certificates: h.idp.key.certificatePem,
    };
    assert.throws(
      () => validateSamlSettings(input),
      (e: unknown) => isGatehouseError(e) && e.fields?.ssoUrl !== undefined,
    );
    assert.equal(validateSamlSettings(input, { allowInsecureUrls: true }).idp.ssoUrl, "http://i.test/sso");
  });

  test("metadata that offers only HTTP-POST for sign-in is refused with a reason", () => {
    const xml = h.idp
      .metadataXml()
      .replace(/<md:SingleSignOnService Binding="[^"]*HTTP-Redirect"[^>]*\/>/, "");
    assert.throws(
      () => validateSamlSettings({ metadataXml: xml }),
      (e: unknown) => isGatehouseError(e) && /HTTP-Redirect/.test(e.fields?.metadataXml ?? ""),
    );
  });
});

describe("service provider", () => {
  test("URLs derive from the connection id, so edits do not change them", () => {
    assert.deepEqual(serviceProviderUrls("https://sso.example.com/", "c_123"), {
      entityId: "https://sso.example.com/sso/saml/c_123/metadata",
      acsUrl: "https://sso.example.com/sso/saml/c_123/acs",
      sloUrl: "https://sso.example.com/sso/saml/c_123/slo",
    });
  });

  test("SP metadata publishes the entity ID, the ACS for HTTP-POST and the certificate for signing and encryption", () => {
    const xml = generateSpMetadata(h.sp);
    const document = parseXml(xml);
    const md = "urn:oasis:names:tc:SAML:2.0:metadata";
    assert.equal(document.documentElement.getAttribute("entityID"), h.sp.entityId);
    const acs = document.getElementsByTagNameNS(md, "AssertionConsumerService").item(0);
    assert.equal(acs?.getAttribute("Location"), h.sp.acsUrl);
    assert.equal(acs?.getAttribute("Binding"), "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST");
    const uses = Array.from(document.getElementsByTagNameNS(md, "KeyDescriptor")).map((k) =>
      k.getAttribute("use"),
    );
    assert.deepEqual(uses.sort(), ["encryption", "signing"]);
    const body = h.sp.keyPair.certificatePem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    assert.equal(xml.replace(/\s+/g, "").split(body).length - 1, 2, "the certificate appears for both uses");
    assert.doesNotMatch(xml, /PRIVATE KEY/);
    const sp = document.getElementsByTagNameNS(md, "SPSSODescriptor").item(0);
    assert.equal(sp?.getAttribute("WantAssertionsSigned"), "true");
  });

  test("each connection gets its own key pair, an RSA-2048 self-signed certificate", async () => {
    const other = await generateSpKeyPair({ commonName: "other" });
    assert.notEqual(other.privateKeyPem, h.sp.keyPair.privateKeyPem);
    const certificate = new X509Certificate(other.certificatePem);
    assert.equal(certificate.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(certificate.verify(certificate.publicKey));
  });
});

describe("AuthnRequest (HTTP-Redirect)", () => {
  test("a signed request to the IdP's SSO URL, answered at our ACS, with the ID to remember", async () => {
    const now = new Date("2026-03-02T10:00:00Z");
    const start = await buildAuthnRequest({ settings: h.settings, sp: h.sp, relayState: "tx_abc123", now });
    assert.match(start.requestId, /^_[0-9a-f]{40}$/);
    assert.equal(start.expiresAt.getTime(), now.getTime() + 10 * 60_000);
    const url = new URL(start.url);
    assert.equal(`${url.origin}${url.pathname}`, h.idp.ssoUrl);
    assert.equal(url.searchParams.get("RelayState"), "tx_abc123");
    assert.equal(url.searchParams.get("SigAlg"), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");

    const request = parseXml(decodeRedirectMessage(url.searchParams.get("SAMLRequest"))).documentElement;
    assert.equal(request.localName, "AuthnRequest");
    assert.equal(request.getAttribute("ID"), start.requestId);
    assert.equal(request.getAttribute("Destination"), h.idp.ssoUrl);
    assert.equal(request.getAttribute("AssertionConsumerServiceURL"), h.sp.acsUrl);
    assert.equal(request.getAttribute("ProtocolBinding"), "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST");
    const issuer = request.getElementsByTagNameNS("urn:oasis:names:tc:SAML:2.0:assertion", "Issuer").item(0);
    assert.equal(issuer?.textContent, h.sp.entityId);
    assert.equal(
      request.getElementsByTagNameNS("urn:oasis:names:tc:SAML:2.0:protocol", "RequestedAuthnContext").length,
      0,
      "no authentication context is demanded (MFA and Windows sign-in must work)",
    );

    // SAML bindings 3.4.4.1: the signature covers the raw query parameters in this order.
    const query = url.search.slice(1).split("&");
    const signed = ["SAMLRequest", "RelayState", "SigAlg"]
      .map((name) => query.find((p) => p.startsWith(`${name}=`)))
      .join("&");
    const signature = url.searchParams.get("Signature") ?? "";
    assert.ok(
      createVerify("sha256").update(signed).verify(h.sp.keyPair.certificatePem, signature, "base64"),
      "signed with the connection's key",
    );
  });

  test("every request has a new ID", async () => {
    const a = await buildAuthnRequest({ settings: h.settings, sp: h.sp, relayState: "t1" });
    const b = await buildAuthnRequest({ settings: h.settings, sp: h.sp, relayState: "t1" });
    assert.notEqual(a.requestId, b.requestId);
  });

  test("a RelayState that is a URL or longer than 80 bytes is refused", async () => {
    for (const relayState of ["https://evil.test/", "x".repeat(81)]) {
      await assert.rejects(
        buildAuthnRequest({ settings: h.settings, sp: h.sp, relayState }),
        (e: unknown) => isSamlCheckError(e) && e.check === "relay-state",
      );
    }
  });
});

describe("RelayState coming back", () => {
  const cases: Array<[unknown, string]> = [
    ["/dashboard?tab=1", "/dashboard?tab=1"],
    ["https://evil.test/", "/"],
    ["//evil.test/", "/"],
    ["/\\evil.test", "/"],
    ["javascript:alert(1)", "/"],
    ["/a\u0000b", "/"],
    [`/${"a".repeat(79)}`, `/${"a".repeat(79)}`],
    [`/${"a".repeat(80)}`, "/"],
    [undefined, "/"],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} lands on ${expected}`, () => {
      assert.equal(relayStateReturnTo(input), expected);
    });
  }
});
