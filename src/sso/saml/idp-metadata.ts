import { X509Certificate } from "node:crypto";
import { SamlCheckError } from "./checks.js";
import { parseXml } from "./inbound-message.js";
import { toPem } from "./sp-keys.js";
import { attribute, BINDING, childElements, descendants, NS, text } from "./xml.js";

/** What Gatehouse needs from an IdP's metadata (SAML metadata 2.4.3 IDPSSODescriptor). */
export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  ssoBinding: "redirect" | "post";
  sloUrl?: string;
  sloBinding?: "redirect" | "post";
  /**
   * The SingleLogoutService's ResponseLocation: where a LogoutResponse to the IdP's
   * LogoutRequest goes (SAML metadata 2.2.2); when absent, `sloUrl`.
   */
  sloResponseUrl?: string;
  /** PEM. Several during a rollover: a signature by any of them is accepted. */
  signingCertificates: string[];
  wantAuthnRequestsSigned: boolean;
}

/** Metadata of one IdP is a few kilobytes; federation aggregates are not accepted here. */
const MAX_METADATA_BYTES = 512 * 1024;

/**
 * Reads pasted or downloaded IdP metadata. The document is trusted because the admin chose it
 * (as with the OIDC issuer URL); its own signature, if any, is not what makes it trusted.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  const document = parseXml(xml.trim(), { maxMessageBytes: MAX_METADATA_BYTES });
  const root = document.documentElement;
  let entity: Element | undefined;
  if (root.namespaceURI === NS.metadata && root.localName === "EntityDescriptor") {
    entity = root;
  } else if (root.namespaceURI === NS.metadata && root.localName === "EntitiesDescriptor") {
    const idps = descendants(root, NS.metadata, "EntityDescriptor").filter(
      (e) => childElements(e, NS.metadata, "IDPSSODescriptor").length > 0,
    );
    if (idps.length !== 1) {
      throw metadataError("the metadata must describe exactly one identity provider", {
        expected: "1 EntityDescriptor with an IDPSSODescriptor",
        received: String(idps.length),
      });
    }
    entity = idps[0];
  }
  if (!entity) {
    throw metadataError("this is not SAML 2.0 metadata", {
      expected: "md:EntityDescriptor",
      received: root.localName ?? root.nodeName,
    });
  }
  const entityId = attribute(entity, "entityID");
  if (!entityId) throw metadataError("the metadata has no entityID");

  const idp = childElements(entity, NS.metadata, "IDPSSODescriptor").find((d) =>
    (attribute(d, "protocolSupportEnumeration") ?? "").split(/\s+/).includes(NS.protocol),
  );
  if (!idp) {
    throw metadataError("the metadata has no SAML 2.0 IDPSSODescriptor", {
      expected: `protocolSupportEnumeration containing ${NS.protocol}`,
    });
  }

  const sso = pickEndpoint(childElements(idp, NS.metadata, "SingleSignOnService"));
  if (!sso) {
    throw metadataError("the metadata has no SingleSignOnService for the HTTP-Redirect or HTTP-POST binding");
  }
  const slo = pickEndpoint(childElements(idp, NS.metadata, "SingleLogoutService"));

  const signingCertificates: string[] = [];
  for (const descriptor of childElements(idp, NS.metadata, "KeyDescriptor")) {
    // SAML metadata 2.4.1.1: a KeyDescriptor without `use` is for both signing and encryption.
    const use = attribute(descriptor, "use");
    if (use !== undefined && use !== "signing") continue;
    for (const x509 of descendants(descriptor, NS.dsig, "X509Certificate")) {
      const pem = normalizeCertificate(text(x509) ?? "");
      if (!signingCertificates.includes(pem)) signingCertificates.push(pem);
    }
  }
  if (signingCertificates.length === 0) {
    throw metadataError("the metadata has no signing certificate", {
      expected: 'KeyDescriptor use="signing" with an X509Certificate',
    });
  }

  return {
    entityId,
    ssoUrl: sso.url,
    ssoBinding: sso.binding,
    ...(slo ? { sloUrl: slo.url, sloBinding: slo.binding } : {}),
    ...(slo?.responseUrl ? { sloResponseUrl: slo.responseUrl } : {}),
    signingCertificates,
    wantAuthnRequestsSigned: attribute(idp, "WantAuthnRequestsSigned") === "true",
  };
}

/** HTTP-Redirect is how Gatehouse sends requests; HTTP-POST is recorded when it is all there is. */
function pickEndpoint(
  endpoints: Element[],
): { url: string; binding: "redirect" | "post"; responseUrl?: string } | undefined {
  for (const [binding, uri] of [
    ["redirect", BINDING.redirect],
    ["post", BINDING.post],
  ] as const) {
    const endpoint = endpoints.find((e) => attribute(e, "Binding") === uri && attribute(e, "Location"));
    const url = attribute(endpoint, "Location");
    const responseUrl = attribute(endpoint, "ResponseLocation");
    if (url) return { url, binding, ...(responseUrl ? { responseUrl } : {}) };
  }
  return undefined;
}

/**
 * A certificate as PEM, from PEM or the bare base64 that metadata and IdP consoles show.
 * Only RSA keys of 2048 bits or more: the signatures accepted are RSA-SHA256 or stronger.
 */
export function normalizeCertificate(input: string): string {
  const body = input.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  let certificate: X509Certificate;
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new Error("not base64");
    certificate = new X509Certificate(Buffer.from(body, "base64"));
  } catch (error) {
    throw metadataError("a certificate could not be read", {
      expected: "an X.509 certificate",
      cause: error,
    });
  }
  const key = certificate.publicKey;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== "rsa" || bits < 2048) {
    throw metadataError("the signing certificate's key is not RSA of at least 2048 bits", {
      expected: "RSA ≥ 2048 bits",
      received: `${key.asymmetricKeyType ?? "unknown"} ${bits || ""}`.trim(),
    });
  }
  return toPem("CERTIFICATE", certificate.raw);
}

function metadataError(
  message: string,
  facts: { expected?: string; received?: string; cause?: unknown } = {},
) {
  return new SamlCheckError("metadata", message, facts);
}
