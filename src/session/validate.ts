import type { FastifyRequest } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { type ActiveSession, findActiveSession } from "../store/sessions.js";
import { sessionCookieName } from "./cookie.js";

export type { ActiveSession };

const cache = new WeakMap<FastifyRequest, Promise<ActiveSession | undefined>>();

/**
 * The request's session, checked once per request: from the session cache when nothing about
 * it changed since it was last read, else with a single query.
 */
export function currentSession(ctx: AppContext, request: FastifyRequest): Promise<ActiveSession | undefined> {
  let pending = cache.get(request);
  if (!pending) {
    const token = request.cookies[sessionCookieName(ctx.config)];
    pending = token && token.length <= 100 ? checkSession(ctx, hashToken(token)) : Promise.resolve(undefined);
    cache.set(request, pending);
  }
  return pending;
}

/** The session check behind `currentSession`, by the hash of the session id. */
export function checkSession(
  ctx: Pick<AppContext, "store" | "sessionCache" | "now">,
  idHash: string,
): Promise<ActiveSession | undefined> {
  const now = ctx.now();
  const cached = ctx.sessionCache.get(idHash, now);
  if (cached) return Promise.resolve(cached);
  const ticket = ctx.sessionCache.ticket();
  return findActiveSession(ctx.store.db, idHash, now).then((session) => {
    if (session) ctx.sessionCache.put(session, ticket);
    return session;
  });
}

export function isAdmin(session: ActiveSession | undefined): boolean {
  return session?.role === "owner" || session?.role === "admin";
}
