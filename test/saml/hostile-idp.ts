/**
 * A SAML IdP written for the tests: it issues a correct, signed Response for Gatehouse's
 * AuthnRequest, and breaks exactly one rule when asked to. Signing uses xml-crypto directly and
 * encryption xml-encryption, so nothing here goes through the module under test.
 */
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import xmlEncryption from "xml-encryption";
import { generateSpKeyPair, type SpKeyPair } from "../../src/sso/saml/sp-keys.js";

export const ALG = {
  rsaSha256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  rsaSha1: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
  sha256: "http://www.w3.org/2001/04/xmlenc#sha256",
  sha1: "http://www.w3.org/2000/09/xmldsig#sha1",
} as const;

const SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML = "urn:oasis:names:tc:SAML:2.0:assertion";
const EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

export interface TestIdp {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  key: SpKeyPair;
  metadataXml: (extraCertificates?: string[]) => string;
}

export async function createTestIdp(entityId = "https://idp.hostile.test/saml"): Promise<TestIdp> {
  const key = await generateSpKeyPair({ commonName: "hostile test idp" });
  const ssoUrl = "https://idp.hostile.test/sso";
  const sloUrl = "https://idp.hostile.test/slo";
  return {
    entityId,
    ssoUrl,
    sloUrl,
    key,
    metadataXml: (extra = []) =>
      idpMetadata({ entityId, ssoUrl, sloUrl, certificates: [key.certificatePem, ...extra] }),
  };
}

export function idpMetadata(input: {
  entityId: string;
  ssoUrl: string;
  sloUrl?: string;
  certificates: string[];
}): string {
  const keys = input.certificates
    .map(
      (pem) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${esc(input.entityId)}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    ${keys}
    ${input.sloUrl ? `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${esc(input.sloUrl)}"/>` : ""}
    <md:NameIDFormat>${EMAIL_FORMAT}</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${esc(input.ssoUrl)}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${esc(input.ssoUrl)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

export interface ResponseFields {
  idp: TestIdp;
  acsUrl: string;
  spEntityId: string;
  requestId: string | undefined;
  now: Date;
  nameId?: string;
  nameIdXml?: string;
  nameIdFormat?: string;
  issuer?: string;
  responseIssuer?: string;
  audience?: string;
  recipient?: string;
  destination?: string | null;
  responseInResponseTo?: string | null;
  notBefore?: Date;
  notOnOrAfter?: Date;
  statusCode?: string;
  assertionId?: string;
  attributes?: Record<string, string[]>;
  sessionIndex?: string;
}

/** A Response with one unsigned assertion, as the IdP composes it before signing. */
export function composeResponse(f: ResponseFields): string {
  const issueInstant = f.now.toISOString();
  const notBefore = (f.notBefore ?? new Date(f.now.getTime() - 60_000)).toISOString();
  const notOnOrAfter = (f.notOnOrAfter ?? new Date(f.now.getTime() + 5 * 60_000)).toISOString();
  const assertionId = f.assertionId ?? newId();
  const inResponseTo = f.requestId ? ` InResponseTo="${esc(f.requestId)}"` : "";
  const responseInResponseTo =
    f.responseInResponseTo === null
      ? ""
      : f.responseInResponseTo !== undefined
        ? ` InResponseTo="${esc(f.responseInResponseTo)}"`
        : inResponseTo;
  const destination = f.destination === null ? "" : ` Destination="${esc(f.destination ?? f.acsUrl)}"`;
  const attributes = Object.entries(
    f.attributes ?? { email: ["alice@acme.test"], displayName: ["Alice Example"] },
  )
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${esc(name)}">${values.map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`).join("")}</saml:Attribute>`,
    )
    .join("");
  const nameId = f.nameIdXml ?? esc(f.nameId ?? "alice@acme.test");
  return `<samlp:Response xmlns:samlp="${SAMLP}" xmlns:saml="${SAML}" ID="${newId()}" Version="2.0" IssueInstant="${issueInstant}"${destination}${responseInResponseTo}>
<saml:Issuer>${esc(f.responseIssuer ?? f.issuer ?? f.idp.entityId)}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="${esc(f.statusCode ?? "urn:oasis:names:tc:SAML:2.0:status:Success")}"/></samlp:Status>
<saml:Assertion ID="${assertionId}" Version="2.0" IssueInstant="${issueInstant}">
<saml:Issuer>${esc(f.issuer ?? f.idp.entityId)}</saml:Issuer>
<saml:Subject><saml:NameID Format="${esc(f.nameIdFormat ?? EMAIL_FORMAT)}">${nameId}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${inResponseTo} NotOnOrAfter="${notOnOrAfter}" Recipient="${esc(f.recipient ?? f.acsUrl)}"/></saml:SubjectConfirmation>
</saml:Subject>
<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${esc(f.audience ?? f.spEntityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="${issueInstant}" SessionIndex="${esc(f.sessionIndex ?? "_session-1")}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
<saml:AttributeStatement>${attributes}</saml:AttributeStatement>
</saml:Assertion>
</samlp:Response>`;
}

export interface SignOptions {
  key: SpKeyPair;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  /** The certificate put in KeyInfo; the signing key's own by default. */
  keyInfoCertificate?: string;
}

/** Signs the (first) assertion: an enveloped signature placed after its Issuer (SAML core 5.4.1). */
export function signAssertion(xml: string, options: SignOptions): string {
  return sign(xml, "Assertion", options);
}

/** Signs the Response element itself, after its Issuer. */
export function signResponse(xml: string, options: SignOptions): string {
  return sign(xml, "Response", options);
}

function sign(xml: string, element: "Assertion" | "Response", options: SignOptions): string {
  const sig = new SignedXml({
    privateKey: options.key.privateKeyPem,
    publicCert: options.keyInfoCertificate ?? options.key.certificatePem,
    signatureAlgorithm: options.signatureAlgorithm ?? ALG.rsaSha256,
    canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
  });
  sig.addReference({
    xpath: `(//*[local-name(.)='${element}'])[1]`,
    digestAlgorithm: options.digestAlgorithm ?? ALG.sha256,
    transforms: [
      "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
      "http://www.w3.org/2001/10/xml-exc-c14n#",
    ],
  });
  sig.computeSignature(xml, {
    prefix: "ds",
    location: {
      reference: `(//*[local-name(.)='${element}'])[1]/*[local-name(.)='Issuer']`,
      action: "after",
    },
  });
  return sig.getSignedXml();
}

const encrypt = promisify(xmlEncryption.encrypt) as (
  content: string,
  options: xmlEncryption.EncryptOptions,
) => Promise<string>;

/** Replaces the (signed) assertion by an EncryptedAssertion to the SP's certificate. */
export async function encryptAssertion(
  xml: string,
  spCertificatePem: string,
  algorithms: { key?: string; content?: string } = {},
): Promise<string> {
  const document = parse(xml);
  const assertion = document.getElementsByTagNameNS(SAML, "Assertion").item(0)!;
  const encrypted = await encrypt(new XMLSerializer().serializeToString(assertion), {
    rsa_pub: spCertificatePem,
    pem: spCertificatePem,
    encryptionAlgorithm: (algorithms.content ??
      "http://www.w3.org/2001/04/xmlenc#aes256-cbc") as xmlEncryption.EncryptionAlgorithm,
    keyEncryptionAlgorithm: (algorithms.key ??
      "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p") as xmlEncryption.KeyEncryptionAlgorithm,
    warnInsecureAlgorithm: false,
  });
  const wrapper = parse(
    `<saml:EncryptedAssertion xmlns:saml="${SAML}">${encrypted}</saml:EncryptedAssertion>`,
  );
  assertion.parentNode!.replaceChild(document.importNode(wrapper.documentElement!, true), assertion);
  return new XMLSerializer().serializeToString(document);
}

export function toPostField(xml: string): string {
  return Buffer.from(xml, "utf8").toString("base64");
}

export function newId(): string {
  return `_${randomBytes(16).toString("hex")}`;
}

export function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, "text/xml") as unknown as Document;
}

export function serialize(node: Node): string {
  return new XMLSerializer().serializeToString(node as never);
}

function certificateBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

function esc(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
