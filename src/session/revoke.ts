import type { FastifyReply, FastifyRequest } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { revokeSession } from "../store/sessions.js";
import { cookieOptions, sessionCookieName } from "./cookie.js";

/** Ends the browser's session server-side, so the old cookie is worthless even if kept. */
export async function endSession(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const name = sessionCookieName(ctx.config);
  const token = request.cookies[name];
  reply.clearCookie(name, cookieOptions(ctx.config));
  if (!token) return undefined;
  return revokeSession(ctx.store.db, hashToken(token), ctx.now());
}
