import { promisify } from "node:util";
import xmlEncryption from "xml-encryption";
import { SamlCheckError } from "./checks.js";
import { type MessageLimits, parseXml } from "./inbound-message.js";
import { attribute, childElements, descendants, NS, walk } from "./xml.js";

/**
 * Structural checks on the whole Response document, before any signature is verified: these
 * close the doors that XML signature wrapping, comment truncation and weak algorithms use.
 */

const COMMENT_NODE = 8;
const PROCESSING_INSTRUCTION_NODE = 7;

/**
 * A comment or processing instruction splits a text node: `user@evil.test<!---->.example.com`
 * is signed as one value and read as another by parsers that take the first text node
 * (CVE-2017-11428 family). No IdP needs either inside a message, so both are refused.
 */
export function refuseCommentsAndProcessingInstructions(document: Document): void {
  for (const node of walk(document)) {
    if (node.nodeType === COMMENT_NODE) {
      throw new SamlCheckError("comment-or-processing-instruction", "the message contains an XML comment", {
        expected: "no comments",
        received: `a comment in <${node.parentNode?.nodeName ?? "?"}>`,
      });
    }
    // xmldom reports the XML declaration as a processing instruction named "xml".
    if (
      node.nodeType === PROCESSING_INSTRUCTION_NODE &&
      !(node.nodeName === "xml" && node.parentNode === document)
    ) {
      throw new SamlCheckError(
        "comment-or-processing-instruction",
        "the message contains a processing instruction",
        {
          expected: "no processing instructions",
          received: `<?${node.nodeName}?> in <${node.parentNode?.nodeName ?? "?"}>`,
        },
      );
    }
  }
}

/** Signature references resolve by ID: two elements with one ID is how wrapping starts. */
export function refuseDuplicateIds(document: Document): void {
  const seen = new Set<string>();
  for (const node of walk(document)) {
    if (node.nodeType !== 1) continue;
    const element = node as Element;
    for (const name of ["ID", "Id", "id", "AssertionID"]) {
      const id = attribute(element, name);
      if (id === undefined) continue;
      if (seen.has(id)) {
        throw new SamlCheckError("duplicate-id", "two elements carry the same ID", { received: id });
      }
      seen.add(id);
    }
  }
}

/**
 * Exactly one assertion in the whole document, plain or encrypted, and it is a direct child of
 * the Response. Counting nested ones too is what refuses the eight wrapping layouts, which all
 * smuggle a second assertion (or a second Response holding one) somewhere in the tree.
 */
export function theOneAssertion(response: Element): Element {
  const document = response.ownerDocument;
  const all = [
    ...descendants(document, NS.assertion, "Assertion"),
    ...descendants(document, NS.assertion, "EncryptedAssertion"),
  ];
  const direct = [
    ...childElements(response, NS.assertion, "Assertion"),
    ...childElements(response, NS.assertion, "EncryptedAssertion"),
  ];
  const responses = descendants(document, NS.protocol, "Response");
  if (all.length !== 1 || direct.length !== 1 || responses.length !== 1) {
    throw new SamlCheckError("assertion-count", "the response must hold exactly one assertion", {
      expected: "1 assertion, directly in the only Response",
      received: `${all.length} assertion(s), ${direct.length} directly in the Response, ${responses.length} Response element(s)`,
    });
  }
  return direct[0]!;
}

// XML Signature 1.1 and RFC 6931. No SHA-1 anywhere (SignatureMethod or DigestMethod).
const SIGNATURE_METHODS = new Set([
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
]);
const DIGEST_METHODS = new Set([
  "http://www.w3.org/2001/04/xmlenc#sha256",
  "http://www.w3.org/2001/04/xmlenc#sha512",
]);

/** Every signature in the document uses RSA-SHA256 or stronger, and SHA-256 or stronger digests. */
export function checkSignatureAlgorithms(root: Document): void {
  for (const signature of descendants(root, NS.dsig, "Signature")) {
    for (const method of descendants(signature, NS.dsig, "SignatureMethod")) {
      const algorithm = attribute(method, "Algorithm");
      if (!algorithm || !SIGNATURE_METHODS.has(algorithm)) {
        throw new SamlCheckError("signature-algorithm", "the signature algorithm is not accepted", {
          expected: "RSA-SHA256 or stronger",
          received: algorithm ?? "(absent)",
        });
      }
    }
    for (const method of descendants(signature, NS.dsig, "DigestMethod")) {
      const algorithm = attribute(method, "Algorithm");
      if (!algorithm || !DIGEST_METHODS.has(algorithm)) {
        throw new SamlCheckError("signature-algorithm", "the digest algorithm is not accepted", {
          expected: "SHA-256 or stronger",
          received: algorithm ?? "(absent)",
        });
      }
    }
  }
}

// XML Encryption 1.1: RSA-OAEP key transport only (RSA 1.5 is a padding oracle), AES content.
const KEY_TRANSPORT = new Set([
  "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
  "http://www.w3.org/2009/xmlenc11#rsa-oaep",
]);
const CONTENT_ENCRYPTION = new Set([
  "http://www.w3.org/2009/xmlenc11#aes128-gcm",
  "http://www.w3.org/2009/xmlenc11#aes256-gcm",
  "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
  "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
]);

const decrypt = promisify(xmlEncryption.decrypt) as (
  xml: string,
  options: xmlEncryption.DecryptOptions,
) => Promise<string>;

/**
 * Decrypts an EncryptedAssertion with the connection's key and returns the assertion's own
 * document, held to the same guards as the message it came in.
 */
export async function decryptAssertion(
  encrypted: Element,
  privateKeyPem: string,
  limits: MessageLimits,
): Promise<Document> {
  const data = descendants(encrypted, NS.xmlenc, "EncryptedData");
  const keys = descendants(encrypted, NS.xmlenc, "EncryptedKey");
  if (data.length !== 1 || keys.length !== 1) {
    throw new SamlCheckError(
      "decryption",
      "the encrypted assertion must hold one EncryptedData and one EncryptedKey",
      {
        received: `${data.length} EncryptedData, ${keys.length} EncryptedKey`,
      },
    );
  }
  const content = attribute(firstMethod(data[0]!), "Algorithm");
  if (!content || !CONTENT_ENCRYPTION.has(content)) {
    throw new SamlCheckError("encryption-algorithm", "the assertion's encryption algorithm is not accepted", {
      expected: "AES-CBC or AES-GCM",
      received: content ?? "(absent)",
    });
  }
  const transport = attribute(firstMethod(keys[0]!), "Algorithm");
  if (!transport || !KEY_TRANSPORT.has(transport)) {
    throw new SamlCheckError("encryption-algorithm", "the key transport algorithm is not accepted", {
      expected: "RSA-OAEP",
      received: transport ?? "(absent)",
    });
  }
  let xml: string;
  try {
    xml = await decrypt(encrypted.toString(), {
      key: privateKeyPem,
      disallowDecryptionWithInsecureAlgorithm: true,
      warnInsecureAlgorithm: false,
    });
  } catch (error) {
    // One outcome for every failure: a decryption oracle must not learn which step failed.
    throw new SamlCheckError(
      "decryption",
      "the assertion could not be decrypted with this connection's key",
      {
        cause: error,
      },
    );
  }
  const document = parseXml(xml, limits);
  refuseCommentsAndProcessingInstructions(document);
  const root = document.documentElement;
  if (root.namespaceURI !== NS.assertion || root.localName !== "Assertion") {
    throw new SamlCheckError("decryption", "the encrypted content is not an assertion", {
      received: root.localName ?? root.nodeName,
    });
  }
  if (descendants(document, NS.assertion, "Assertion").length !== 1) {
    throw new SamlCheckError("assertion-count", "the encrypted assertion holds another assertion", {
      expected: "1 assertion",
    });
  }
  return document;
}

function firstMethod(element: Element): Element | undefined {
  return childElements(element, NS.xmlenc, "EncryptionMethod")[0];
}
