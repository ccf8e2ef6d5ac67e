import type { FastifyReply, FastifyRequest } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import type { IdpSession } from "../sign-in/adapter.js";
import { revokeSession, sessionIdpContext, sessionIdTokenContext } from "../store/sessions.js";
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
  const { idTokenSealed, idpSessionSealed, ...rest } = ended;
  return { ...rest, idpSession: openIdpSession(ctx, idHash, idTokenSealed, idpSessionSealed) };
}

/**
 * What ends the IdP's session: the ID token for `id_token_hint`, or another protocol's handle;
 * none when it does not open (a key no longer configured).
 */
export function openIdpSession(
  ctx: AppContext,
  idHash: string,
  idTokenSealed: string | null,
  idpSessionSealed: string | null,
): IdpSession | null {
  try {
    if (idTokenSealed !== null) {
      return {
        protocol: "oidc",
        idToken: ctx.box.open(idTokenSealed, sessionIdTokenContext(idHash)),
        sid: null,
      };
    }
    if (idpSessionSealed !== null) {
      return JSON.parse(ctx.box.open(idpSessionSealed, sessionIdpContext(idHash))) as IdpSession;
    }
  } catch (error) {
    ctx.log.warn({ err: error }, "a session's IdP session did not open; signing out of Gatehouse only");
  }
  return null;
}
