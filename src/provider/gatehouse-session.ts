import { fastifyCookie } from "@fastify/cookie";
import type { ProviderContext } from "oidc-provider";
import { hashToken } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { sessionCookieName } from "../session/cookie.js";
import { checkSession } from "../session/validate.js";
import { findApplicationSignIn, upsertApplicationSignIn } from "../store/application-sign-ins.js";
import type { ActiveSession } from "../store/sessions.js";
import { REFRESH_TOKEN_TTL_SECONDS } from "./lifetimes.js";

/** The Gatehouse session of the browser behind an oidc-provider request, from its own cookie. */
export async function gatehouseSessionOf(
  app: AppContext,
  ctx: ProviderContext,
): Promise<ActiveSession | undefined> {
  const header = ctx.req.headers.cookie;
  if (!header) return undefined;
  const token = fastifyCookie.parse(header)[sessionCookieName(app.config)];
  if (!token || token.length > 100) return undefined;
  // The same check as every page's: the cache, the lifetime and the idle timeout.
  return checkSession(app, hashToken(token));
}

export function authTimeOf(session: ActiveSession): number {
  return Math.floor(session.createdAt / 1000);
}

/**
 * The login prompt's last check: the Gatehouse session is the truth, oidc-provider's session
 * only follows it. An application sign-in needs a live Gatehouse session of the same person, and
 * is recorded against that session (its claims, its back-channel logout). A different Gatehouse
 * session than the one recorded (signed out and in again) goes through the interaction again,
 * which refreshes auth_time and amr.
 */
export function requireGatehouseSession(app: AppContext) {
  return async (ctx: ProviderContext): Promise<boolean> => {
    const { session, client } = ctx.oidc;
    if (!session?.accountId || !client) return true;
    const current = await gatehouseSessionOf(app, ctx);
    if (!current || current.userId !== session.accountId) return true;
    const recorded = await findApplicationSignIn(app.store.db, session.uid, client.clientId);
    if (recorded?.sessionIdHash === current.idHash) return false;
    // Right after the interaction, or a second application in the same sign-in.
    const sameSignIn =
      ctx.oidc.result?.login?.accountId === current.userId || session.loginTs === authTimeOf(current);
    if (!sameSignIn) return true;
    session.ensureClientContainer(client.clientId);
    const sid = session.sidFor(client.clientId);
    if (!sid) return true;
    await upsertApplicationSignIn(
      app.store.db,
      {
        providerSessionUid: session.uid,
        clientId: client.clientId,
        sid,
        sessionIdHash: current.idHash,
        userId: current.userId,
        organizationId: current.organizationId,
        method: current.method,
        connectionId: current.connectionId,
        authTime: current.createdAt,
        // Refresh tokens (offline_access) outlive the person's own sign-out; their claims still need this row.
        expiresAt: Math.max(current.expiresAt, app.now() + REFRESH_TOKEN_TTL_SECONDS * 1000),
      },
      app.now(),
    );
    return false;
  };
}
