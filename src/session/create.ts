import type { FastifyReply, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { hashToken, randomToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import type { Database, SignInMethod } from "../store/schema.js";
import { insertSession, revokeSession, sessionIdTokenContext } from "../store/sessions.js";
import { cookieOptions, sessionCookieName } from "./cookie.js";
import { rotateCsrfSecret } from "./csrf.js";

export interface SessionInput {
  userId: string;
  organizationId: string | null;
  method: SignInMethod;
  connectionId?: string | null;
  idToken?: string | null;
  idpSid?: string | null;
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
    // Sealed and bound to this session: a copied row or backup does not yield an id_token_hint.
    idTokenSealed: input.idToken ? ctx.box.seal(input.idToken, sessionIdTokenContext(idHash)) : null,
    idpSid: input.idpSid ?? null,
    createdAt: now,
    expiresAt: now + ctx.config.sessionTtlSeconds * 1000,
  });
  return token;
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
