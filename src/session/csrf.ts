import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.js";
import { hashToken, randomToken } from "../crypto/tokens.js";
import { cookieOptions, hostCookieName, sessionCookieName } from "./cookie.js";

/**
 * Form tokens are double-submit tokens (@fastify/csrf-protection): a random secret in a signed
 * cookie, and a token derived from it in the form. Two more rules keep a token from outliving
 * the session it was issued to:
 * - each token is bound to the session the browser holds (the hash of its session cookie, or
 *   "signed-out"), so a token read before sign-in, or from another session, fails;
 * - the secret itself is replaced at sign-in and at sign-out, so a secret planted in the browser
 *   beforehand (login CSRF through a sibling domain) is gone once a session exists.
 */
export function csrfCookieName(config: Pick<Config, "baseUrl">): string {
  return hostCookieName(config, "gh_csrf");
}

/** What a token is bound to: the session the request carries, or "signed-out" without one. */
export function csrfBinding(config: Pick<Config, "baseUrl">, request: FastifyRequest): string {
  const token = request.cookies[sessionCookieName(config)];
  return token && token.length <= 100 ? hashToken(token) : "signed-out";
}

/**
 * A fresh secret for this browser, from this response on. Tokens generated later in the same
 * response use it too: the request's view of the cookie is replaced as well.
 */
export function rotateCsrfSecret(
  config: Pick<Config, "baseUrl">,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const name = csrfCookieName(config);
  const secret = randomToken(18);
  reply.setCookie(name, secret, { ...cookieOptions(config), signed: true });
  request.cookies[name] = reply.signCookie(secret);
}
