/**
 * The SAML 2.0 protocol module (Gatehouse as Service Provider). A sign-in adapter wraps these
 * steps; nothing here touches HTTP, storage or sessions:
 *
 *   validateSamlSettings   admin input (metadata XML, or entity ID + SSO URL + certificates)
 *   parseIdpMetadata       → entity ID, SSO/SLO URLs and bindings, signing certificates
 *   generateSpKeyPair      per-connection key pair for request signing and assertion encryption
 *   serviceProviderUrls    entity ID (= metadata URL) and ACS URL of a connection
 *   generateSpMetadata     the SP metadata document served at the metadata URL
 *   buildAuthnRequest      HTTP-Redirect URL + the request ID to remember
 *   validateSamlResponse   POSTed SAMLResponse → SamlAssertion, or SamlCheckError
 *   relayStateReturnTo     a returned RelayState as a same-origin path
 *   decodeRedirectMessage  HTTP-Redirect messages (for single logout), inflated under a cap
 */
export { type AuthnRequestStart, buildAuthnRequest, REQUEST_LIFETIME_MS } from "./authn-request.js";
export { isSamlCheckError, type SamlCheck, SamlCheckError } from "./checks.js";
export { type IdpMetadata, parseIdpMetadata } from "./idp-metadata.js";
export { DEFAULT_MAX_MESSAGE_BYTES, decodeRedirectMessage, type MessageLimits } from "./inbound-message.js";
export { relayStateReturnTo } from "./relay-state.js";
export { generateSpMetadata, type ServiceProvider, serviceProviderUrls } from "./service-provider.js";
export { type SamlSettings, type SamlSettingsInput, validateSamlSettings } from "./settings.js";
export { generateSpKeyPair, type SpKeyPair } from "./sp-keys.js";
export {
  MAX_CLOCK_SKEW_SECONDS,
  type SamlAssertion,
  type ValidateResponseInput,
  validateSamlResponse,
} from "./validate-response.js";
