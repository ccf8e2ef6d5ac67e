import type { FastifyReply, FastifyRequest } from "fastify";
import { isSecureBaseUrl } from "../config.js";
import { hashToken, randomToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { hostCookieName } from "../session/cookie.js";

/**
 * A signed cookie that names the browser which started a sign-in. The login transaction
 * stores its hash, and the callback must present it: a handle (`state`, `RelayState`) that leaked to another
 * browser (or was planted in one, login CSRF) finds no transaction to finish.
 */
export const BROWSER_COOKIE = "gh_login";

function browserCookieName(ctx: Pick<AppContext, "config">): string {
  return hostCookieName(ctx.config, BROWSER_COOKIE);
}
const MAX_AGE_SECONDS = 60 * 60;

export function browserBinding(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
): { browserHash: string; fresh: boolean } {
  let browserId = readBrowserId(ctx, request);
  const fresh = !browserId;
  if (!browserId) browserId = randomToken(16);
  reply.setCookie(browserCookieName(ctx), browserId, {
    signed: true,
    httpOnly: true,
    // Lax still sends it on the IdP's top-level redirect back to the callback.
    sameSite: "lax",
    secure: isSecureBaseUrl(ctx.config),
    path: "/",
    maxAge: MAX_AGE_SECONDS,
  });
  return { browserHash: hashToken(browserId), fresh };
}

export function readBrowserHash(
  ctx: Pick<AppContext, "config">,
  request: FastifyRequest,
): string | undefined {
  const id = readBrowserId(ctx, request);
  return id ? hashToken(id) : undefined;
}

function readBrowserId(ctx: Pick<AppContext, "config">, request: FastifyRequest): string | undefined {
  const raw = request.cookies[browserCookieName(ctx)];
  if (!raw || raw.length > 200) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? unsigned.value : undefined;
}
