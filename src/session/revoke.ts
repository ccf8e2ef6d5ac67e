import type { FastifyReply, FastifyRequest } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { revokeSession, sessionIdTokenContext } from "../store/sessions.js";
import { cookieOptions, sessionCookieName } from "./cookie.js";
import { rotateCsrfSecret } from "./csrf.js";

/** Ends the browser's session server-side, so the old cookie is worthless even if kept. */
export async function endSession(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const name = sessionCookieName(ctx.config);
  const token = request.cookies[name];
  reply.clearCookie(name, cookieOptions(ctx.config));
  delete request.cookies[name];
  rotateCsrfSecret(ctx.config, request, reply);
  if (!token) return undefined;
  const idHash = hashToken(token);
  const ended = await revokeSession(ctx.store.db, idHash, ctx.now());
  // The database announces the change to every instance; this one need not wait for it.
  ctx.sessionCache.forget(idHash);
  if (!ended) return undefined;
  const { idTokenSealed, ...rest } = ended;
  return { ...rest, idToken: openIdToken(ctx, idHash, idTokenSealed) };
}

/** The session's ID token for `id_token_hint`; none when it does not open (a key no longer configured). */
function openIdToken(ctx: AppContext, idHash: string, sealed: string | null): string | null {
  if (sealed === null) return null;
  try {
    return ctx.box.open(sealed, sessionIdTokenContext(idHash));
  } catch (error) {
    ctx.log.warn({ err: error }, "a session's ID token did not open; signing out without id_token_hint");
    return null;
  }
}
