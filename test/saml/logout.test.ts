import assert from "node:assert/strict";
import { createSign, createVerify } from "node:crypto";
import { before, describe, test } from "node:test";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { buildLogoutRequest, buildLogoutResponse, readLogoutMessage } from "../../src/sso/saml/logout.js";
import { generateSpKeyPair, type SpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { newId } from "./hostile-idp.js";
import { NOW, type SamlHarness, startSamlHarness } from "./support.js";

const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";

let h: SamlHarness;
let otherKey: SpKeyPair;

before(async () => {
  h = await startSamlHarness();
  otherKey = await generateSpKeyPair({ commonName: "another key" });
});

function logoutRequestXml(overrides: { issuer?: string; destination?: string; notOnOrAfter?: string } = {}) {
  return `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${NOW.toISOString()}" Destination="${overrides.destination ?? h.sp.sloUrl}" NotOnOrAfter="${overrides.notOnOrAfter ?? new Date(NOW.getTime() + 300_000).toISOString()}"><saml:Issuer>${overrides.issuer ?? h.idp.entityId}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@acme.test</saml:NameID><samlp:SessionIndex>_session-1</samlp:SessionIndex></samlp:LogoutRequest>`;
}

/** The IdP's side of the Redirect binding: deflate, base64, sign the query's octets. */
function redirectQuery(
  xml: string,
  options: { name?: string; key?: SpKeyPair | null; sigAlg?: string; relayState?: string; raw?: Buffer } = {},
): string {
  const name = options.name ?? "SAMLRequest";
  const message = encodeURIComponent((options.raw ?? deflateRawSync(Buffer.from(xml))).toString("base64"));
  const parts = [`${name}=${message}`];
  if (options.relayState !== undefined) parts.push(`RelayState=${encodeURIComponent(options.relayState)}`);
  if (options.key === null) return parts.join("&");
  const sigAlg = options.sigAlg ?? RSA_SHA256;
  parts.push(`SigAlg=${encodeURIComponent(sigAlg)}`);
  const signer = createSign(sigAlg === RSA_SHA1 ? "sha1" : "sha256");
  signer.update(parts.join("&"));
  const signature = signer.sign((options.key ?? h.idp.key).privateKeyPem, "base64");
  return `${parts.join("&")}&Signature=${encodeURIComponent(signature)}`;
}

function read(rawQuery: string) {
  return readLogoutMessage({ rawQuery, settings: h.settings, sp: h.sp, now: NOW });
}

describe("single logout messages Gatehouse sends", () => {
  test("a LogoutRequest is signed with the connection's key (RSA-SHA256) and names the session", async () => {
    const built = await buildLogoutRequest({
      settings: h.settings,
      sp: h.sp,
      subject: { nameId: "alice@acme.test", sessionIndex: "_session-1" },
      relayState: "bye",
    });
    assert.ok(built);
    const url = new URL(built.url);
    assert.equal(`${url.origin}${url.pathname}`, h.idp.sloUrl);
    assert.equal(url.searchParams.get("SigAlg"), RSA_SHA256);
    const rawQuery = url.search.slice(1);
    const signed = rawQuery.slice(0, rawQuery.indexOf("&Signature="));
    const verifier = createVerify("sha256").update(signed);
    assert.ok(
      verifier.verify(h.sp.keyPair.certificatePem, url.searchParams.get("Signature") ?? "", "base64"),
    );
    const xml = inflateRawSync(Buffer.from(url.searchParams.get("SAMLRequest") ?? "", "base64")).toString();
    assert.match(xml, new RegExp(`ID="${built.requestId}"`));
    assert.match(xml, /alice@acme\.test<\/saml:NameID>/);
    assert.match(xml, /_session-1/);
    assert.match(xml, new RegExp(`<saml:Issuer[^>]*>${h.sp.entityId}</saml:Issuer>`));
  });

  test("no SingleLogoutService at the IdP: no LogoutRequest", async () => {
    const { sloUrl: _, sloBinding: __, ...idp } = h.settings.idp;
    const settings = { ...h.settings, idp };
    assert.equal(
      await buildLogoutRequest({ settings, sp: h.sp, subject: { nameId: "a" }, relayState: "x" }),
      undefined,
    );
  });

  test("a LogoutResponse answers the IdP's request by its ID", async () => {
    const url = await buildLogoutResponse({
      settings: h.settings,
      sp: h.sp,
      inResponseTo: "_idp-request",
      success: true,
      relayState: "rs",
    });
    assert.ok(url);
    const message = new URL(url).searchParams.get("SAMLResponse") ?? "";
    const xml = inflateRawSync(Buffer.from(message, "base64")).toString();
    assert.match(xml, /InResponseTo="_idp-request"/);
    assert.match(xml, /status:Success/);
  });
});

describe("where a LogoutResponse goes", () => {
  test("to the IdP's ResponseLocation when its metadata names one, which is also its Destination", async () => {
    const responseUrl = `${h.idp.sloUrl}/return`;
    const settings = { ...h.settings, idp: { ...h.settings.idp, sloResponseUrl: responseUrl } };
    const url = new URL(
      (await buildLogoutResponse({
        settings,
        sp: h.sp,
        inResponseTo: "_idp-request",
        success: true,
        relayState: undefined,
      })) ?? "",
    );
    assert.equal(`${url.origin}${url.pathname}`, responseUrl);
    const xml = inflateRawSync(Buffer.from(url.searchParams.get("SAMLResponse") ?? "", "base64")).toString();
    assert.match(xml, new RegExp(`Destination="${responseUrl}"`));
    // A LogoutRequest still goes to the Location.
    const request = await buildLogoutRequest({
      settings,
      sp: h.sp,
      subject: { nameId: "alice@acme.test" },
      relayState: "x",
    });
    assert.equal(new URL(request?.url ?? "").pathname, new URL(h.idp.sloUrl).pathname);
  });

  test("to the Location when the metadata names no ResponseLocation", async () => {
    const url = new URL(
      (await buildLogoutResponse({
        settings: h.settings,
        sp: h.sp,
        inResponseTo: "_idp-request",
        success: true,
        relayState: undefined,
      })) ?? "",
    );
    assert.equal(`${url.origin}${url.pathname}`, h.idp.sloUrl);
  });
});

describe("single logout messages Gatehouse reads (HTTP-Redirect)", () => {
  test("a signed LogoutRequest from the IdP is read", () => {
    const message = read(redirectQuery(logoutRequestXml(), { relayState: "/after" }));
    assert.equal(message.kind, "LogoutRequest");
    assert.ok(message.kind === "LogoutRequest");
    assert.equal(message.nameId, "alice@acme.test");
    assert.deepEqual(message.sessionIndexes, ["_session-1"]);
    assert.equal(message.relayState, "/after");
  });

  test("a LogoutResponse is read with its status", () => {
    const xml = `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${NOW.toISOString()}" InResponseTo="_ours"><saml:Issuer>${h.idp.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`;
    assert.deepEqual(read(redirectQuery(xml, { name: "SAMLResponse" })), {
      kind: "LogoutResponse",
      inResponseTo: "_ours",
      success: true,
      status: "urn:oasis:names:tc:SAML:2.0:status:Success",
      relayState: undefined,
    });
  });

  test("an unsigned LogoutRequest is refused", () => {
    assert.throws(() => read(redirectQuery(logoutRequestXml(), { key: null })), isCheck("signature"));
  });

  test("a LogoutRequest signed by another key is refused", () => {
    assert.throws(() => read(redirectQuery(logoutRequestXml(), { key: otherKey })), isCheck("signature"));
  });

  test("a changed RelayState under a valid signature is refused", () => {
    const query = redirectQuery(logoutRequestXml(), { relayState: "/a" }).replace(
      "RelayState=%2Fa",
      "RelayState=%2Fb",
    );
    assert.throws(() => read(query), isCheck("signature"));
  });

  test("RSA-SHA1 is refused", () => {
    assert.throws(
      () => read(redirectQuery(logoutRequestXml(), { sigAlg: RSA_SHA1 })),
      isCheck("signature-algorithm"),
    );
  });

  test("a LogoutRequest from another issuer is refused", () => {
    const query = redirectQuery(logoutRequestXml({ issuer: "https://evil.test" }));
    assert.throws(() => read(query), isCheck("issuer"));
  });

  test("a LogoutRequest for another destination is refused", () => {
    const query = redirectQuery(logoutRequestXml({ destination: "https://elsewhere.test/slo" }));
    assert.throws(() => read(query), isCheck("destination"));
  });

  test("an expired LogoutRequest is refused", () => {
    const query = redirectQuery(
      logoutRequestXml({ notOnOrAfter: new Date(NOW.getTime() - 600_000).toISOString() }),
    );
    assert.throws(() => read(query), isCheck("not-on-or-after"));
  });

  test("a deflate bomb stops at the size cap, after the signature is checked", () => {
    const bomb = deflateRawSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
    assert.throws(() => read(redirectQuery("", { raw: bomb })), isCheck("message-size"));
  });

  test("a DOCTYPE is refused before parsing", () => {
    const xml = `<!DOCTYPE x [<!ENTITY a "aaaa">]>${logoutRequestXml()}`;
    assert.throws(() => read(redirectQuery(xml)), isCheck("doctype"));
  });

  test("a repeated parameter is refused", () => {
    const query = redirectQuery(logoutRequestXml());
    assert.throws(() => read(`${query}&SigAlg=x`), isCheck("message-encoding"));
  });
});

function isCheck(check: string) {
  return (error: unknown) => (error as { check?: string }).check === check;
}
