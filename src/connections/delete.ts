import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { deleteConnectionRow, findConnection, setConnectionStatus } from "../store/connections.js";
import { detachLoginTransactions } from "../store/login-transactions.js";
import { revokeNonSsoSessionsForDomains, revokeSessionsForConnection } from "../store/sessions.js";
import { listMembersAtDomains } from "../store/users.js";
import { identityProviderOf } from "./view.js";

export interface ConnectionActor {
  organizationId: string;
  actorUserId: string | null;
  /**
   * The session of the admin acting, when the action comes from a browser: deleting the
   * connection that admin signed in through keeps them signed in to see the result, as creating
   * one keeps their password session.
   */
  actorSessionHash?: string | undefined;
  ip?: string | undefined;
}

/**
 * The members at a connection's domains in two counts, for the audit and the admin's banner:
 * those a password or LinkedIn still signs in, and those left with no way in (accounts single
 * sign-on created have neither).
 */
async function peopleLeftBehind(
  db: Parameters<typeof listMembersAtDomains>[0],
  organizationId: string,
  domains: readonly string[],
): Promise<{ peopleWithPasswordOrLinkedIn: number; peopleWithNeither: number }> {
  const members = await listMembersAtDomains(db, organizationId, domains);
  const withOther = members.filter((m) => m.hasPasswordOrLinkedIn).length;
  return { peopleWithPasswordOrLinkedIn: withOther, peopleWithNeither: members.length - withOther };
}

/**
 * Deletes a connection with its domains and identities. Its users keep their accounts; those
 * with a password or LinkedIn can use it again at once, and those without (accounts single
 * sign-on created) cannot sign in until a connection serves their domain again. Sign-ins already under way stay recorded
 * without their connection, so that their callback, on whichever instance, says the connection
 * was deleted.
 */
export async function deleteConnection(ctx: AppContext, actor: ConnectionActor, id: string): Promise<void> {
  const connection = await findConnection(ctx.store.db, actor.organizationId, id);
  if (!connection)
    throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    // The sessions it issued end with it: an IdP that removed a person can no longer keep them
    // signed in through a connection that is gone. Before the delete, which nulls their link.
    const sessionsEnded = await revokeSessionsForConnection(trx, id, now, {
      exceptIdHash: actor.actorSessionHash,
    });
    await detachLoginTransactions(trx, id);
    const people = await peopleLeftBehind(trx, actor.organizationId, connection.domains);
    // Of concurrent deletes, the one that removed the row records it; the others find nothing.
    if (!(await deleteConnectionRow(trx, actor.organizationId, id)))
      throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
    await insertAuditEvent(
      trx,
      {
        type: "connection.deleted",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        connectionId: id,
        outcome: "success",
        ip: actor.ip,
        detail: {
          name: connection.name,
          issuer: identityProviderOf(connection),
          domains: connection.domains,
          sessionsEnded,
          ...people,
        },
      },
      now,
    );
  });
  await ctx.sessionCache.caughtUp();
}

export interface StatusChange {
  /** False when the connection already had that status (or a concurrent change won). */
  changed: boolean;
  sessionsEnded: number;
  /** After Disable: who a password or LinkedIn still signs in, and who is left with no way in. */
  people?: { peopleWithPasswordOrLinkedIn: number; peopleWithNeither: number };
}

async function connectionOf(ctx: AppContext, actor: ConnectionActor, id: string) {
  const connection = await findConnection(ctx.store.db, actor.organizationId, id);
  if (!connection)
    throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
  return connection;
}

/**
 * Stops a connection from signing anyone in or enforcing SSO, keeping its configuration. By
 * default the sessions it issued end with it (the admin may keep them). Of concurrent
 * disables, the one whose update changed the row records the event; the others change nothing.
 */
export async function disableConnection(
  ctx: AppContext,
  actor: ConnectionActor & { actorSessionHash?: string | undefined },
  id: string,
  options: { endSessions?: boolean } = {},
): Promise<StatusChange> {
  const connection = await connectionOf(ctx, actor, id);
  const endSessions = options.endSessions ?? true;
  const now = ctx.now();
  const result = await ctx.store.db.transaction().execute(async (trx) => {
    if (!(await setConnectionStatus(trx, id, "disabled", now))) return { changed: false, sessionsEnded: 0 };
    // The admin who disables it keeps their own session, to see the result.
    const sessionsEnded = endSessions
      ? await revokeSessionsForConnection(trx, id, now, { exceptIdHash: actor.actorSessionHash })
      : 0;
    const people = await peopleLeftBehind(trx, actor.organizationId, connection.domains);
    await insertAuditEvent(
      trx,
      {
        type: "connection.disabled",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        connectionId: id,
        outcome: "success",
        ip: actor.ip,
        detail: { name: connection.name, previousStatus: connection.status, sessionsEnded, ...people },
      },
      now,
    );
    return { changed: true, sessionsEnded, people };
  });
  await ctx.sessionCache.caughtUp();
  return result;
}

/**
 * Enables a disabled connection: from now on it signs in and enforces SSO at its domains, so
 * the password and LinkedIn sessions of people at those domains end, as at Create (except the
 * admin's own, so they see the result).
 */
export async function enableConnection(
  ctx: AppContext,
  actor: ConnectionActor & { actorSessionHash?: string | undefined },
  id: string,
): Promise<StatusChange> {
  const connection = await connectionOf(ctx, actor, id);
  const now = ctx.now();
  const result = await ctx.store.db.transaction().execute(async (trx) => {
    if (!(await setConnectionStatus(trx, id, "enabled", now))) return { changed: false, sessionsEnded: 0 };
    const sessionsEnded = await revokeNonSsoSessionsForDomains(
      trx,
      connection.domains,
      actor.actorSessionHash,
      now,
    );
    await insertAuditEvent(
      trx,
      {
        type: "connection.enabled",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        connectionId: id,
        outcome: "success",
        ip: actor.ip,
        detail: { name: connection.name, revokedSessions: sessionsEnded },
      },
      now,
    );
    return { changed: true, sessionsEnded };
  });
  await ctx.sessionCache.caughtUp();
  return result;
}

/** "Sign out everyone who signed in through this connection": ends the sessions it issued. */
export async function signOutConnectionSessions(
  ctx: AppContext,
  actor: ConnectionActor & { actorSessionHash?: string | undefined },
  id: string,
): Promise<number> {
  const connection = await connectionOf(ctx, actor, id);
  const now = ctx.now();
  const result = await ctx.store.db.transaction().execute(async (trx) => {
    const sessionsEnded = await revokeSessionsForConnection(trx, id, now, {
      exceptIdHash: actor.actorSessionHash,
    });
    await insertAuditEvent(
      trx,
      {
        type: "sessions.revoked_for_connection",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        connectionId: id,
        outcome: "success",
        ip: actor.ip,
        detail: { name: connection.name, sessionsEnded },
      },
      now,
    );
    return sessionsEnded;
  });
  await ctx.sessionCache.caughtUp();
  return result;
}
