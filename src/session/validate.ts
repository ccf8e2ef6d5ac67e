import type { FastifyRequest } from "fastify";
import type { Config } from "../config.js";
import { hashToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { type ActiveSession, findActiveSession } from "../store/sessions.js";
import { sessionCookieName } from "./cookie.js";
import { touchSessionBatched } from "./touches.js";

export type { ActiveSession };

declare module "fastify" {
  interface FastifyRequest {
    /** The request's session check, made once (see `currentSession`); declared by `buildApp`. */
    sessionCheck: Promise<ActiveSession | undefined> | null;
  }
}

/**
 * The request's session, checked once per request: from the session cache when nothing about
 * it changed since it was last read, else with a single query.
 */
export function currentSession(ctx: AppContext, request: FastifyRequest): Promise<ActiveSession | undefined> {
  let pending = request.sessionCheck;
  if (!pending) {
    const token = request.cookies[sessionCookieName(ctx.config)];
    pending = token && token.length <= 100 ? checkSession(ctx, hashToken(token)) : Promise.resolve(undefined);
    request.sessionCheck = pending;
  }
  return pending;
}

/**
 * A session's last use is written at most this often, so the check stays a read (or a cache hit)
 * on all but one request a minute; the idle timeout may therefore end a session up to this much
 * early, never late.
 */
export const LAST_SEEN_INTERVAL_MS = 60_000;

type SessionCheckContext = Pick<AppContext, "store" | "sessionCache" | "now"> & {
  config: Pick<Config, "sessionIdleTimeoutSeconds">;
};

/** The session check behind `currentSession`, by the hash of the session id. */
export function checkSession(ctx: SessionCheckContext, idHash: string): Promise<ActiveSession | undefined> {
  const now = ctx.now();
  const cached = ctx.sessionCache.get(idHash, now);
  if (cached)
    return Promise.resolve(now - cached.lastSeenAt < LAST_SEEN_INTERVAL_MS ? cached : used(ctx, cached, now));
  const ticket = ctx.sessionCache.ticket();
  return findActiveSession(ctx.store.db, idHash, now).then((session) => {
    if (!session) return undefined;
    ctx.sessionCache.put(session, ticket);
    return now - session.lastSeenAt < LAST_SEEN_INTERVAL_MS ? session : used(ctx, session, now);
  });
}

/**
 * A use of a session whose last use is due to be written. The idle timeout: a session last used
 * before the cut-off is over. When the last use this instance knows of is after the cut-off,
 * the session is live (the database's is never earlier: this instance only ever learns it from
 * there or writes it there), so the check answers at once and the write goes on without it.
 * Otherwise the database decides (another instance may have seen a later use), in the same
 * statement that records this one.
 */
function used(
  ctx: SessionCheckContext,
  session: ActiveSession,
  now: number,
): ActiveSession | Promise<ActiveSession | undefined> {
  const cutoff = now - ctx.config.sessionIdleTimeoutSeconds * 1000;
  const recorded = touchSessionBatched(ctx.store.db, session.idHash, now, cutoff).then((live) => {
    if (!live) {
      ctx.sessionCache.forget(session.idHash);
      return undefined;
    }
    // The cached entry is this object, or a copy that the next check refreshes the same way.
    session.lastSeenAt = now;
    ctx.sessionCache.seen(session.idHash, now);
    return session;
  });
  if (session.lastSeenAt < cutoff) return recorded;
  // Not written (the database is unavailable): the next check of the session tries again.
  recorded.catch(() => undefined);
  return session;
}

export function isAdmin(session: ActiveSession | undefined): boolean {
  return session?.role === "owner" || session?.role === "admin";
}
