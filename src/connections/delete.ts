import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { deleteConnectionRow, findConnection, setConnectionStatus } from "../store/connections.js";
import { detachLoginTransactions } from "../store/login-transactions.js";
import { revokeSessionsForConnection } from "../store/sessions.js";

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
 * Deletes a connection with its domains and identities. Its users keep their accounts and can
 * use their other sign-in methods again at once. Sign-ins already under way stay recorded
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
          issuer: connection.issuer,
          domains: connection.domains,
          sessionsEnded,
        },
      },
      now,
    );
  });
}

/** Stops a connection from signing anyone in or enforcing SSO, keeping its configuration. */
export async function disableConnection(ctx: AppContext, actor: ConnectionActor, id: string): Promise<void> {
  const connection = await findConnection(ctx.store.db, actor.organizationId, id);
  if (!connection)
    throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    // A disable that changed nothing (already disabled, or a concurrent one won) records nothing.
    if (!(await setConnectionStatus(trx, id, "disabled", now))) return;
    await insertAuditEvent(
      trx,
      {
        type: "connection.disabled",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        connectionId: id,
        outcome: "success",
        ip: actor.ip,
        detail: { name: connection.name, previousStatus: connection.status },
      },
      now,
    );
  });
}
