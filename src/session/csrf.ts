import { Tokens } from "@fastify/csrf";
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

/** The token a form or script submitted: the `_csrf` field, or the `x-csrf-token` header. */
function submittedToken(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body._csrf === "string" ? body._csrf : undefined;
  const fromHeader = request.headers["x-csrf-token"];
  return fromBody ?? (typeof fromHeader === "string" ? fromHeader : undefined);
}

/**
 * Reads the submitted token for @fastify/csrf-protection. Tokens are HMAC'd with the cookie key,
 * which changes when GATEHOUSE_SECRET_KEY is rotated; like cookies signed under a previous key,
 * a form rendered before the rotation stays valid: a token that verifies under a previous key,
 * for this browser's secret and session, is read as the current key's token for the same.
 */
export function csrfTokenReader(
  config: Pick<Config, "baseUrl">,
  keys: { current: Buffer; previous: readonly Buffer[] },
): (request: FastifyRequest) => string | undefined {
  if (keys.previous.length === 0) return submittedToken;
  const current = Tokens({ userInfo: true, hmacKey: keys.current });
  const previous = keys.previous.map((hmacKey) => Tokens({ userInfo: true, hmacKey }));
  const cookieName = csrfCookieName(config);
  return (request) => {
    const token = submittedToken(request);
    if (token === undefined) return undefined;
    const secret = request.unsignCookie(request.cookies[cookieName] ?? "").value;
    if (!secret) return token;
    const binding = csrfBinding(config, request);
    if (current.verify(secret, token, binding)) return token;
    return previous.some((tokens) => tokens.verify(secret, token, binding))
      ? current.create(secret, binding)
      : token;
  };
}
