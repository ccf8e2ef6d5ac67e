import type { Kysely } from "kysely";
import { type AssignableRole, decideMembershipChange, type MembershipChange } from "../domain/people.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import type { Database, Role } from "../store/schema.js";
import { revokeSessionsForUser } from "../store/sessions.js";

/** Who asks for a change: a signed-in admin (user and role), or an organization API key (neither). */
export interface PeopleActor {
  userId: string | null;
  role: Role | null;
}

const refusalMessages = {
  LAST_OWNER: "The organization's last owner cannot be demoted or removed.",
  SELF: "You cannot change or remove your own membership; ask another admin.",
  OWNER_BY_ADMIN: "Only an owner can change or remove another owner.",
} as const;

/**
 * Reads the member and the owner count, applies the pure rule, and locks in the decision within
 * the caller's transaction. PostgreSQL's `for update` on the organization's memberships keeps
 * two admins demoting the last two owners at once from both succeeding.
 */
async function checkChange(
  trx: Kysely<Database>,
  ctx: AppContext,
  organizationId: string,
  userId: string,
  actor: PeopleActor,
  change: MembershipChange,
): Promise<{ role: Role; email: string }> {
  let query = trx
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .select(["memberships.user_id as userId", "memberships.role as role", "users.email as email"])
    .where("memberships.organization_id", "=", organizationId);
  if (ctx.store.dialect === "postgres") query = query.forUpdate();
  const members = await query.execute();
  const target = members.find((m) => m.userId === userId);
  if (!target) throw new GatehouseError("NOT_FOUND", "No such member of this organization.");
  const ownerCount = members.filter((m) => m.role === "owner").length;
  const decision = decideMembershipChange({ actor, target, ownerCount, change });
  if (!decision.allowed) {
    throw new GatehouseError("MEMBER_CHANGE_REFUSED", refusalMessages[decision.reason], {
      detail: `${change.kind} of ${target.email} refused: ${decision.reason}`,
    });
  }
  return { role: target.role, email: target.email };
}

export async function changeMemberRole(
  ctx: AppContext,
  organizationId: string,
  userId: string,
  role: AssignableRole,
  actor: PeopleActor,
): Promise<void> {
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    const target = await checkChange(trx, ctx, organizationId, userId, actor, { kind: "role", role });
    if (target.role === role) return;
    await trx
      .updateTable("memberships")
      .set({ role })
      .where("organization_id", "=", organizationId)
      .where("user_id", "=", userId)
      .execute();
    await insertAuditEvent(
      trx,
      {
        type: "user.role_changed",
        organizationId,
        actorUserId: actor.userId,
        userId,
        email: target.email,
        outcome: "success",
        detail: { from: target.role, to: role },
      },
      now,
    );
  });
  await ctx.sessionCache.caughtUp();
}

/**
 * Removes a person from the organization: their sessions end first (so applications signed in
 * through them hear of it), then the account goes, since a Gatehouse account belongs to one
 * organization. Inviting them again makes a new account.
 */
export async function removeMember(
  ctx: AppContext,
  organizationId: string,
  userId: string,
  actor: PeopleActor,
): Promise<{ email: string; sessionsEnded: number }> {
  const now = ctx.now();
  const removed = await ctx.store.db.transaction().execute(async (trx) => {
    const target = await checkChange(trx, ctx, organizationId, userId, actor, { kind: "remove" });
    const sessionsEnded = await revokeSessionsForUser(trx, userId, now);
    await trx
      .deleteFrom("memberships")
      .where("organization_id", "=", organizationId)
      .where("user_id", "=", userId)
      .execute();
    const elsewhere = await trx
      .selectFrom("memberships")
      .select("organization_id")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!elsewhere) await trx.deleteFrom("users").where("id", "=", userId).execute();
    await insertAuditEvent(
      trx,
      {
        type: "user.removed",
        organizationId,
        actorUserId: actor.userId,
        userId,
        email: target.email,
        outcome: "success",
        detail: { role: target.role, sessionsEnded },
      },
      now,
    );
    return { email: target.email, sessionsEnded };
  });
  await ctx.sessionCache.caughtUp();
  return removed;
}
