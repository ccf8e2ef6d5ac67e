import { parseXml } from "./inbound-message.js";
import { attribute, descendants } from "./xml.js";

/** SAML v2.0 Metadata Profile for Algorithm Support, 2.4. */
const ALGSUPPORT = "urn:oasis:names:tc:SAML:metadata:algsupport";

const SHA1_SIGNING = new Set([
  "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
  "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
]);
const SHA1_DIGEST = "http://www.w3.org/2000/09/xmldsig#sha1";

/**
 * An IdP whose metadata declares that it signs only with SHA-1 (alg:SigningMethod, or
 * alg:DigestMethod, listing nothing stronger) would have every sign-in refused by the
 * `signature-algorithm` check; the admin is told at setup instead. Metadata that declares
 * nothing says nothing, and is accepted. Returns the message for the metadata field.
 */
export function signingMethodsProblem(metadataXml: string): string | undefined {
  let document: Document;
  try {
    document = parseXml(metadataXml.trim(), { maxMessageBytes: 512 * 1024 });
  } catch {
    // parseIdpMetadata has already reported what is wrong with the document.
    return undefined;
  }
  const signing = descendants(document, ALGSUPPORT, "SigningMethod")
    .map((e) => attribute(e, "Algorithm"))
    .filter((a): a is string => Boolean(a));
  const digests = descendants(document, ALGSUPPORT, "DigestMethod")
    .map((e) => attribute(e, "Algorithm"))
    .filter((a): a is string => Boolean(a));
  if (signing.length > 0 && signing.every((a) => SHA1_SIGNING.has(a))) {
    return "The IdP's metadata says it signs only with SHA-1, which Gatehouse refuses. Set its signature algorithm to RSA-SHA256 and download the metadata again.";
  }
  if (digests.length > 0 && digests.every((a) => a === SHA1_DIGEST)) {
    return "The IdP's metadata says it digests only with SHA-1, which Gatehouse refuses. Set its digest algorithm to SHA-256 and download the metadata again.";
  }
  return undefined;
}
