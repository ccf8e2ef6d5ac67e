import type { FastifyReply, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { hashToken, randomToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import type { IdpSession } from "../sign-in/adapter.js";
import type { Database, SignInMethod } from "../store/schema.js";
import {
  insertSession,
  type NewSession,
  revokeSession,
  sessionIdpContext,
  sessionIdTokenContext,
} from "../store/sessions.js";
import { cookieOptions, sessionCookieName } from "./cookie.js";
import { rotateCsrfSecret } from "./csrf.js";

export interface SessionInput {
  userId: string;
  organizationId: string | null;
  method: SignInMethod;
  connectionId?: string | null;
  /** What ends the IdP's session later (sign-out there, back-channel logout by `sid`). */
  idpSession?: IdpSession | null;
  /**
   * The IdP was asked to sign the person in afresh (src/store/sessions.ts). A password sign-in
   * always is: the password was just typed.
   */
  authenticatedAfresh?: boolean;
}

/**
 * Writes a new session with a fresh id (never reusing one the browser brought: session
 * fixation) and ends any session the browser had before, in the caller's transaction. Returns
 * the cookie value, to be set with `setSessionCookie` once that transaction has committed.
 */
export async function issueSession(
  ctx: AppContext,
  request: FastifyRequest,
  input: SessionInput,
  db: Kysely<Database>,
): Promise<string> {
  const now = ctx.now();
  const previous = request.cookies[sessionCookieName(ctx.config)];
  const token = randomToken();
  const idHash = hashToken(token);
  if (previous) await revokeSession(db, hashToken(previous), now, { replacedByUserId: input.userId });
  await insertSession(db, {
    idHash,
    userId: input.userId,
    organizationId: input.organizationId,
    method: input.method,
    connectionId: input.connectionId ?? null,
    ...sealedIdpSession(ctx, idHash, input.idpSession ?? null),
    authenticatedAfresh: input.method === "password" || input.authenticatedAfresh === true,
    createdAt: now,
    expiresAt: now + ctx.config.sessionTtlSeconds * 1000,
  });
  return token;
}

/**
 * Sealed and bound to this session: a copied row or backup does not yield an id_token_hint or
 * a LogoutRequest. OpenID Connect's ID token keeps its own column (and `sid` stays in clear,
 * for back-channel logout to find the session); another protocol's session is sealed JSON.
 */
function sealedIdpSession(
  ctx: AppContext,
  idHash: string,
  session: IdpSession | null,
): Pick<NewSession, "idTokenSealed" | "idpSid" | "idpSessionSealed"> {
  if (session === null) return { idTokenSealed: null, idpSid: null, idpSessionSealed: null };
  if (session.protocol === "oidc") {
    return {
      idTokenSealed: ctx.box.seal(session.idToken, sessionIdTokenContext(idHash)),
      idpSid: session.sid,
      idpSessionSealed: null,
    };
  }
  return {
    idTokenSealed: null,
    idpSid: null,
    idpSessionSealed: ctx.box.seal(JSON.stringify(session), sessionIdpContext(idHash)),
  };
}

export function setSessionCookie(ctx: AppContext, reply: FastifyReply, token: string): void {
  const name = sessionCookieName(ctx.config);
  reply.setCookie(name, token, cookieOptions(ctx.config, ctx.config.sessionTtlSeconds));
  // Whatever this response renders next belongs to the new session: its form tokens too.
  reply.request.cookies[name] = token;
  rotateCsrfSecret(ctx.config, reply.request, reply);
}

/** A new session in its own transaction, and its cookie. */
export async function createSession(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  input: SessionInput,
): Promise<void> {
  const token = await ctx.store.db.transaction().execute((trx) => issueSession(ctx, request, input, trx));
  setSessionCookie(ctx, reply, token);
}
