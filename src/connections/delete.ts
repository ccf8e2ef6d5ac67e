import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { deleteConnectionRow, findConnection, setConnectionStatus } from "../store/connections.js";
import { detachLoginTransactions } from "../store/login-transactions.js";

export interface ConnectionActor {
  organizationId: string;
  actorUserId: string | null;
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
    await detachLoginTransactions(trx, id);
    await deleteConnectionRow(trx, actor.organizationId, id);
    await insertAuditEvent(
      trx,
      {
        type: "connection.deleted",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        connectionId: id,
        outcome: "success",
        ip: actor.ip,
        detail: { name: connection.name, issuer: connection.issuer, domains: connection.domains },
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
    await setConnectionStatus(trx, id, "disabled", now);
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
