/**
 * Where an issuer may send a person's browser. The authorization and end-session endpoints are
 * the only URLs of a discovery document that Gatehouse redirects browsers to, so a document
 * naming an arbitrary host would turn `/sso/start` and sign-out into open redirects. Pure
 * functions, unit-tested in test/foundation/browser-endpoints.test.ts.
 */
import { getDomain } from "tldts";

/** The registrable domain (eTLD+1) of a host, or the host itself when it has none (localhost, an IP). */
export function siteOf(hostname: string): string {
  return getDomain(hostname, { allowPrivateDomains: true }) ?? hostname.toLowerCase();
}

export type EndpointRefusal = "not_a_url" | "not_https" | "other_site";

/**
 * An endpoint must be `https:` (`http:` too when private issuers are allowed, for development)
 * and on the issuer's own site: its registrable domain, so Okta's `acme.okta.com` may use
 * `login.okta.com` but not another domain, and a host without one (localhost, an address) only
 * itself.
 */
export function checkBrowserEndpoint(
  issuer: string,
  endpoint: string,
  allowHttp: boolean,
): EndpointRefusal | undefined {
  let issuerUrl: URL;
  let url: URL;
  try {
    issuerUrl = new URL(issuer);
    url = new URL(endpoint);
  } catch {
    return "not_a_url";
  }
  if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) return "not_https";
  if (url.username || url.password) return "other_site";
  return siteOf(url.hostname) === siteOf(issuerUrl.hostname) ? undefined : "other_site";
}
