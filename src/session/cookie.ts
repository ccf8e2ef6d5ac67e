import type { CookieSerializeOptions } from "@fastify/cookie";
import type { Config } from "../config.js";
import { isSecureBaseUrl } from "../config.js";

/** `__Host-` pins the cookie to this exact origin and path when it can be Secure. */
export function sessionCookieName(config: Pick<Config, "baseUrl">): string {
  return isSecureBaseUrl(config) ? "__Host-gh_session" : "gh_session";
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
