import { randomBytes } from "node:crypto";
import { SAML } from "@node-saml/node-saml";
import { SamlCheckError } from "./checks.js";
import type { ServiceProvider } from "./service-provider.js";
import type { SamlSettings } from "./settings.js";

/** How long the IdP has to answer a request before its ID is no longer accepted. */
export const REQUEST_LIFETIME_MS = 10 * 60_000;

export interface AuthnRequestStart {
  /** Where to send the browser: the IdP's SSO URL with SAMLRequest, RelayState, SigAlg, Signature. */
  url: string;
  /** Remember it with the sign-in transaction: the response's InResponseTo must match it once. */
  requestId: string;
  expiresAt: Date;
}

/**
 * An SP-initiated AuthnRequest for the HTTP-Redirect binding (SAML bindings 3.4), signed with
 * the connection's key (SigAlg RSA-SHA256). `relayState` is an opaque handle the adapter chooses
 * (the sign-in transaction's key); it is never a URL.
 */
export async function buildAuthnRequest(input: {
  settings: SamlSettings;
  sp: ServiceProvider;
  relayState: string;
  now?: Date;
  /** ForceAuthn (SAML core 3.4.1): the IdP signs the person in afresh, not from its session. */
  forceAuthn?: boolean;
}): Promise<AuthnRequestStart> {
  const { settings, sp, relayState } = input;
  // SAML bindings 3.4.3: RelayState MUST NOT exceed 80 bytes.
  if (Buffer.byteLength(relayState, "utf8") > 80 || !/^[\w.~-]*$/.test(relayState)) {
    throw new SamlCheckError("relay-state", "the RelayState must be an opaque token of at most 80 bytes", {
      expected: "≤ 80 URL-safe characters",
      received: `${Buffer.byteLength(relayState, "utf8")} bytes`,
    });
  }
  // SAML core 1.3.4: an xs:ID, so it must not start with a digit.
  const requestId = `_${randomBytes(20).toString("hex")}`;
  const saml = new SAML({
    entryPoint: settings.idp.ssoUrl,
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    idpCert: settings.idp.signingCertificates,
    privateKey: sp.keyPair.privateKeyPem,
    signatureAlgorithm: "sha256",
    authnRequestBinding: "HTTP-Redirect",
    // No NameIDPolicy format: an IdP that cannot produce the one asked for fails the sign-in
    // (ADFS, Entra ID); the email is read from the NameID or attributes, whichever is sent.
    identifierFormat: null,
    // No RequestedAuthnContext: asking for PasswordProtectedTransport breaks MFA, certificate
    // and Windows-integrated sign-in at Entra ID and ADFS.
    disableRequestedAuthnContext: true,
    generateUniqueId: () => requestId,
    forceAuthn: input.forceAuthn ?? false,
  });
  const url = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
  return { url, requestId, expiresAt: new Date((input.now ?? new Date()).getTime() + REQUEST_LIFETIME_MS) };
}
