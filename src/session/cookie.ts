import type { CookieSerializeOptions } from "@fastify/cookie";
import type { Config } from "../config.js";
import { isSecureBaseUrl } from "../config.js";

/**
 * A cookie's name on this deployment: on an https base URL, `__Host-` makes the browser refuse
 * it unless it is Secure, has Path=/ and no Domain, so neither a sibling subdomain nor a plain
 * http page can plant or overwrite it (RFC 6265bis 4.1.3.2). Every Gatehouse cookie uses it.
 */
export function hostCookieName(config: Pick<Config, "baseUrl">, name: string): string {
  return isSecureBaseUrl(config) ? `__Host-${name}` : name;
}

export function sessionCookieName(config: Pick<Config, "baseUrl">): string {
  return hostCookieName(config, "gh_session");
}

export function cookieOptions(
  config: Pick<Config, "baseUrl">,
  maxAgeSeconds?: number,
): CookieSerializeOptions {
  const options: CookieSerializeOptions = {
    httpOnly: true,
    sameSite: "lax",
    secure: isSecureBaseUrl(config),
    path: "/",
  };
  if (maxAgeSeconds !== undefined) options.maxAge = maxAgeSeconds;
  return options;
}
