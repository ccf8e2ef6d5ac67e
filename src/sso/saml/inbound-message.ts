import { inflateRawSync } from "node:zlib";
import { DOMParser } from "@xmldom/xmldom";
import { SamlCheckError } from "./checks.js";

/**
 * Guards that run on the bytes of a SAML message before any XML parser sees them: a size cap,
 * strict base64, UTF-8 only, and no document type declaration at all: a DTD is how entity
 * expansion ("billion laughs") and external entities get in, and no SAML message needs one.
 */

/** Large enough for an Entra ID response with its 150-group cap; small enough to parse quickly. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

export interface MessageLimits {
  /** Decoded (and, for the Redirect binding, inflated) size in bytes. */
  maxMessageBytes?: number;
}

/** A `SAMLResponse` posted by the HTTP-POST binding (SAML bindings 3.5.4): base64 of the XML. */
export function decodePostMessage(encoded: unknown, limits: MessageLimits = {}): string {
  const max = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const bytes = decodeBase64(encoded, max);
  return toXmlText(bytes, max);
}

/**
 * A message sent by the HTTP-Redirect binding (SAML bindings 3.4.4.1): base64 of DEFLATE.
 * Inflating stops at the cap, so a deflate bomb costs at most `maxMessageBytes` of memory.
 */
export function decodeRedirectMessage(encoded: unknown, limits: MessageLimits = {}): string {
  const max = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // A compressed message larger than the cap is refused before inflating it.
  const compressed = decodeBase64(encoded, max);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(compressed, { maxOutputLength: max });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new SamlCheckError("message-size", "the inflated message is larger than allowed", {
        expected: `at most ${max} bytes`,
        received: "more",
        cause: error,
      });
    }
    throw new SamlCheckError("message-encoding", "the message is not valid DEFLATE data", { cause: error });
  }
  return toXmlText(inflated, max);
}

function decodeBase64(encoded: unknown, maxBytes: number): Buffer {
  if (typeof encoded !== "string" || encoded.length === 0) {
    throw new SamlCheckError("message-encoding", "the SAML message is missing", {
      expected: "a base64 string",
      received: typeof encoded,
    });
  }
  // Checked on the encoded length first, so an oversized body is never decoded.
  // base64 of maxBytes, plus a line break every 76 characters.
  if (encoded.length > Math.ceil(maxBytes / 3) * 4 + Math.ceil(maxBytes / 57) * 2 + 4) {
    throw new SamlCheckError("message-size", "the SAML message is larger than allowed", {
      expected: `at most ${maxBytes} bytes`,
      received: `${encoded.length} base64 characters`,
    });
  }
  // Line breaks are allowed (some IdPs wrap at 76 characters); anything else that is not base64 is not.
  const compact = encoded.replace(/[\r\n\t ]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new SamlCheckError("message-encoding", "the SAML message is not base64");
  }
  const bytes = Buffer.from(compact, "base64");
  if (bytes.length > maxBytes) {
    throw new SamlCheckError("message-size", "the SAML message is larger than allowed", {
      expected: `at most ${maxBytes} bytes`,
      received: `${bytes.length} bytes`,
    });
  }
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function toXmlText(bytes: Buffer, maxBytes: number): string {
  if (bytes.length > maxBytes) {
    throw new SamlCheckError("message-size", "the SAML message is larger than allowed", {
      expected: `at most ${maxBytes} bytes`,
      received: `${bytes.length} bytes`,
    });
  }
  let text: string;
  try {
    // UTF-16 and other encodings would let markup hide from the DOCTYPE scan below.
    text = utf8.decode(bytes);
  } catch (error) {
    throw new SamlCheckError("message-encoding", "the SAML message is not UTF-8", { cause: error });
  }
  refuseDoctype(text);
  return text;
}

/** No DTD, no entity declarations: refused on the text, before a parser could expand anything. */
export function refuseDoctype(xml: string): void {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new SamlCheckError("doctype", "the XML contains a document type declaration", {
      expected: "no DOCTYPE or ENTITY declaration",
      received: /<!ENTITY/i.test(xml) ? "<!ENTITY" : "<!DOCTYPE",
    });
  }
}

/**
 * Parses XML that has passed the guards above. Any parser error or warning refuses the
 * document: a SAML message that a strict parser has to repair is not one we read identities from.
 */
export function parseXml(xml: string, limits: MessageLimits = {}): Document {
  const max = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (Buffer.byteLength(xml, "utf8") > max) {
    throw new SamlCheckError("message-size", "the XML document is larger than allowed", {
      expected: `at most ${max} bytes`,
      received: `${Buffer.byteLength(xml, "utf8")} bytes`,
    });
  }
  refuseDoctype(xml);
  const problems: string[] = [];
  const record = (message: string) => {
    problems.push(message.replace(/\s+/g, " ").trim());
  };
  const document = new DOMParser({
    locator: {},
    errorHandler: { warning: record, error: record, fatalError: record },
  }).parseFromString(xml, "text/xml");
  if (problems.length > 0 || !document?.documentElement) {
    throw new SamlCheckError("xml-well-formed", "the XML document is not well-formed", {
      received: problems[0] ?? "no root element",
    });
  }
  // xmldom's Document is the DOM's Document in all that this module uses.
  return document as unknown as Document;
}
