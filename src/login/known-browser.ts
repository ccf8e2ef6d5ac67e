import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.js";
import { isSecureBaseUrl } from "../config.js";
import { cookieOptions } from "../session/cookie.js";

/**
 * The "this browser signed in here before" cookie: signed with the cookie key, it lists the
 * accounts that completed a password sign-in in this browser. Such a browser is not delayed by
 * the failures strangers piled on the account (OWASP's device-cookie defence against
 * account lockout), so nobody can keep an owner out by guessing their password.
 */
const MAX_ACCOUNTS = 5;
const LIFETIME_SECONDS = 180 * 24 * 3600;

export function knownBrowserCookieName(config: Pick<Config, "baseUrl">): string {
  return isSecureBaseUrl(config) ? "__Host-gh_device" : "gh_device";
}

/** The account ids this browser signed in to before; empty when the cookie is absent or forged. */
export function knownAccounts(config: Pick<Config, "baseUrl">, request: FastifyRequest): string[] {
  const raw = request.cookies[knownBrowserCookieName(config)];
  if (!raw || raw.length > 1000) return [];
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || !unsigned.value) return [];
  return unsigned.value.split(",").slice(0, MAX_ACCOUNTS);
}

/** Remembers `userId` in this browser, most recent first. */
export function rememberAccount(
  config: Pick<Config, "baseUrl">,
  request: FastifyRequest,
  reply: FastifyReply,
  userId: string,
): void {
  const accounts = [userId, ...knownAccounts(config, request).filter((id) => id !== userId)].slice(
    0,
    MAX_ACCOUNTS,
  );
  reply.setCookie(knownBrowserCookieName(config), accounts.join(","), {
    ...cookieOptions(config, LIFETIME_SECONDS),
    signed: true,
  });
}
