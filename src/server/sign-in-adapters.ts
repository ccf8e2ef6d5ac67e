import { SignInAdapters } from "../sign-in/registry.js";
import { linkedinAdapter, oidcAdapter } from "../sso/oidc/adapter.js";
import { samlAdapter } from "../sso/saml/adapter.js";

/**
 * Every protocol Gatehouse signs in with, one line each: the name is what connections
 * (`connections.protocol`) and login transactions (`login_transactions.protocol`) store.
 */
export function signInAdapters(): SignInAdapters {
  return new SignInAdapters({
    oidc: oidcAdapter,
    linkedin: linkedinAdapter,
    saml: samlAdapter,
  });
}
