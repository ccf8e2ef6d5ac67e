import { generateServiceProviderMetadata } from "@node-saml/node-saml";
import type { SpKeyPair } from "./sp-keys.js";
import { BINDING, NAMEID_FORMAT } from "./xml.js";

/** Gatehouse's side of one SAML connection. */
export interface ServiceProvider {
  /** Also the metadata URL: a value the IdP admin can open to check. */
  entityId: string;
  acsUrl: string;
  /** Where IdPs send LogoutRequests and LogoutResponses (HTTP-Redirect). */
  sloUrl: string;
  keyPair: SpKeyPair;
}

/**
 * The per-connection URLs the routes will serve. They derive from the connection id, never its
 * name, so they stay the same when the connection is renamed or edited.
 */
export function serviceProviderUrls(
  baseUrl: string,
  connectionId: string,
): { entityId: string; acsUrl: string; sloUrl: string } {
  const base = baseUrl.replace(/\/+$/, "");
  const path = `${base}/sso/saml/${encodeURIComponent(connectionId)}`;
  return { entityId: `${path}/metadata`, acsUrl: `${path}/acs`, sloUrl: `${path}/slo` };
}

/**
 * SP metadata (SAML metadata 2.4.4): entity ID, the ACS for HTTP-POST, the single logout URL
 * (HTTP-Redirect), and the connection's certificate both for signing (AuthnRequests,
 * LogoutRequests) and for encryption (assertions to us).
 */
export function generateSpMetadata(sp: ServiceProvider): string {
  const xml = generateServiceProviderMetadata({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    logoutCallbackUrl: sp.sloUrl,
    privateKey: sp.keyPair.privateKeyPem,
    publicCerts: sp.keyPair.certificatePem,
    decryptionPvk: sp.keyPair.privateKeyPem,
    decryptionCert: sp.keyPair.certificatePem,
    identifierFormat: NAMEID_FORMAT.emailAddress,
    wantAssertionsSigned: true,
  });
  // node-saml always declares HTTP-POST for single logout; Gatehouse receives it by
  // HTTP-Redirect (a signed query string, src/sso/saml/logout.ts).
  return xml.replace(
    `<SingleLogoutService Binding="${BINDING.post}"`,
    `<SingleLogoutService Binding="${BINDING.redirect}"`,
  );
}
