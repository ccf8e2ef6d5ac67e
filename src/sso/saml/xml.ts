/** Namespaces and the few DOM walks the SAML module needs, without XPath strings. */
export const NS = {
  protocol: "urn:oasis:names:tc:SAML:2.0:protocol",
  assertion: "urn:oasis:names:tc:SAML:2.0:assertion",
  metadata: "urn:oasis:names:tc:SAML:2.0:metadata",
  dsig: "http://www.w3.org/2000/09/xmldsig#",
  xmlenc: "http://www.w3.org/2001/04/xmlenc#",
} as const;

export const BINDING = {
  redirect: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
  post: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
} as const;

export const NAMEID_FORMAT = {
  emailAddress: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
  persistent: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
  unspecified: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
  transient: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
} as const;

const ELEMENT_NODE = 1;

/** Direct element children of `parent` with this namespace and local name. */
export function childElements(parent: Element | Document, namespace: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== ELEMENT_NODE) continue;
    const element = node as Element;
    if (element.namespaceURI === namespace && element.localName === localName) found.push(element);
  }
  return found;
}

export function firstChild(
  parent: Element | Document,
  namespace: string,
  localName: string,
): Element | undefined {
  return childElements(parent, namespace, localName)[0];
}

/** Every element with this name anywhere below `root`, nested ones included. */
export function descendants(root: Element | Document, namespace: string, localName: string): Element[] {
  const list = root.getElementsByTagNameNS(namespace, localName);
  const found: Element[] = [];
  for (let i = 0; i < list.length; i++) {
    const element = list.item(i);
    if (element) found.push(element);
  }
  return found;
}

/** Every node of the tree, depth first (elements, text, comments, processing instructions). */
export function* walk(root: Node): Generator<Node> {
  yield root;
  for (let node = root.firstChild; node; node = node.nextSibling) yield* walk(node);
}

export function attribute(element: Element | undefined, name: string): string | undefined {
  if (!element?.hasAttribute(name)) return undefined;
  return element.getAttribute(name) ?? undefined;
}

/** The text of an element with whitespace at the edges removed. */
export function text(element: Element | undefined): string | undefined {
  const value = element?.textContent?.trim();
  return value ? value : undefined;
}
