import type { FastifyReply, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { hashToken, randomToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import type { Database, SignInMethod } from "../store/schema.js";
import { insertSession, revokeSession } from "../store/sessions.js";
import { cookieOptions, sessionCookieName } from "./cookie.js";

export interface SessionInput {
  userId: string;
  organizationId: string | null;
  method: SignInMethod;
  connectionId?: string | null;
  idToken?: string | null;
  idpSid?: string | null;
}

/**
 * Starts a session with a fresh id (never reusing one the browser brought: session fixation)
 * and ends any session the browser had before. Pass `trx` to make the session part of a
 * larger sign-in transaction; the cookie is set either way and means nothing if it rolls back.
 */
export async function createSession(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  input: SessionInput,
  trx?: Kysely<Database>,
): Promise<void> {
  const now = ctx.now();
  const name = sessionCookieName(ctx.config);
  const previous = request.cookies[name];
  const token = randomToken();
  const write = async (db: Kysely<Database>) => {
    if (previous) await revokeSession(db, hashToken(previous), now);
    await insertSession(db, {
      idHash: hashToken(token),
      userId: input.userId,
      organizationId: input.organizationId,
      method: input.method,
      connectionId: input.connectionId ?? null,
      idToken: input.idToken ?? null,
      idpSid: input.idpSid ?? null,
      createdAt: now,
      expiresAt: now + ctx.config.sessionTtlSeconds * 1000,
    });
  };
  if (trx) await write(trx);
  else await ctx.store.db.transaction().execute(write);
  reply.setCookie(name, token, cookieOptions(ctx.config, ctx.config.sessionTtlSeconds));
}
