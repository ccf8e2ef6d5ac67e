import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { revokeSessionsForMember, revokeSessionsForOrganization } from "../store/sessions.js";

/** Who asks: an admin's session (kept: they sign everyone else out), an API key, or the operator's CLI. */
export interface SignOutActor {
  organizationId: string;
  userId: string | null;
  sessionHash?: string | undefined;
  ip?: string | undefined;
}

/**
 * "Sign out everywhere" for one member: every session they opened in the organization ends, and
 * the applications signed in through them are told (Back-Channel Logout), in one transaction.
 * The admin asking about themselves keeps the session they ask from.
 */
export async function signOutMember(ctx: AppContext, actor: SignOutActor, userId: string): Promise<number> {
  const now = ctx.now();
  const ended = await ctx.store.db.transaction().execute(async (trx) => {
    const member = await trx
      .selectFrom("memberships")
      .innerJoin("users", "users.id", "memberships.user_id")
      .select("users.email")
      .where("memberships.organization_id", "=", actor.organizationId)
      .where("memberships.user_id", "=", userId)
      .executeTakeFirst();
    if (!member) throw new GatehouseError("NOT_FOUND", "No such member of this organization.");
    const sessionsEnded = await revokeSessionsForMember(trx, actor.organizationId, userId, now, {
      exceptIdHash: actor.userId === userId ? actor.sessionHash : undefined,
    });
    await insertAuditEvent(
      trx,
      {
        type: "sessions.revoked_for_user",
        organizationId: actor.organizationId,
        actorUserId: actor.userId,
        userId,
        email: member.email,
        outcome: "success",
        ip: actor.ip ?? null,
        detail: { sessionsEnded },
      },
      now,
    );
    return sessionsEnded;
  });
  await ctx.sessionCache.caughtUp();
  return ended;
}

/** "Sign out everyone": every session opened in the organization ends, except the asking admin's. */
export async function signOutOrganization(ctx: AppContext, actor: SignOutActor): Promise<number> {
  const now = ctx.now();
  const ended = await ctx.store.db.transaction().execute(async (trx) => {
    const sessionsEnded = await revokeSessionsForOrganization(trx, actor.organizationId, now, {
      exceptIdHash: actor.sessionHash,
    });
    await insertAuditEvent(
      trx,
      {
        type: "sessions.revoked_for_organization",
        organizationId: actor.organizationId,
        actorUserId: actor.userId,
        outcome: "success",
        ip: actor.ip ?? null,
        detail: { sessionsEnded },
      },
      now,
    );
    return sessionsEnded;
  });
  await ctx.sessionCache.caughtUp();
  return ended;
}
