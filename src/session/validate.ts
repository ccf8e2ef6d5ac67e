import type { FastifyRequest } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { type ActiveSession, findActiveSession } from "../store/sessions.js";
import { sessionCookieName } from "./cookie.js";

export type { ActiveSession };

const cache = new WeakMap<FastifyRequest, Promise<ActiveSession | undefined>>();

/** The request's session, checked once per request with a single query. */
export function currentSession(ctx: AppContext, request: FastifyRequest): Promise<ActiveSession | undefined> {
  let pending = cache.get(request);
  if (!pending) {
    const token = request.cookies[sessionCookieName(ctx.config)];
    pending =
      token && token.length <= 100
        ? findActiveSession(ctx.store.db, hashToken(token), ctx.now())
        : Promise.resolve(undefined);
    cache.set(request, pending);
  }
  return pending;
}

export function isAdmin(session: ActiveSession | undefined): boolean {
  return session?.role === "owner" || session?.role === "admin";
}
