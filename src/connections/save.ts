import type { Kysely } from "kysely";
import { activeDomains } from "../domain/organization-domains.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { isUniqueViolation } from "../store/availability.js";
import {
  type Connection,
  type ConnectionChanges,
  findConnectionById,
  insertConnection,
  type NewConnection,
  replaceConnectionDomains,
  updateConnectionRow,
} from "../store/connections.js";
import type { Database } from "../store/schema.js";
import { revokeNonSsoSessionsForDomains } from "../store/sessions.js";
import { fieldErrors } from "./create.js";
import type { ConnectionActor } from "./delete.js";

export interface ConnectionEdit {
  changes: ConnectionChanges;
  /** The names of the fields that changed, for the audit (never a value of a secret). */
  changed: string[];
  name: string;
  domains: string[];
  /** What the protocol adds to the `connection.updated` event. */
  auditDetail: Record<string, unknown>;
}

/**
 * Saves an edit of any protocol's connection in one transaction: the row only if nobody changed
 * it since it was read, the domains (a domain added to an enabled connection enforces SSO from
 * now on, as at Create), and the audit event. Returns how many sessions the new domains ended.
 */
export async function saveConnectionEdit(
  ctx: AppContext,
  actor: ConnectionActor,
  existing: Connection,
  edit: ConnectionEdit,
): Promise<number> {
  const { changes, changed } = edit;
  const now = ctx.now();
  let revokedSessions = 0;
  try {
    await ctx.store.db.transaction().execute(async (trx) => {
      if (!(await updateConnectionRow(trx, existing.id, existing.updatedAt, changes, now))) {
        throw new GatehouseError(
          "CONFLICT",
          "This connection was changed by someone else meanwhile. Reload it and make your change again.",
          { detail: "the connection's updated_at moved during the edit" },
        );
      }
      if (changed.includes("domains")) {
        await replaceConnectionDomains(trx, existing, edit.domains, now);
        const updated = await findConnectionById(trx, existing.id);
        const added = activeDomains(actor.organizationId, updated?.domainStatuses ?? [], now).filter(
          (d) => !existing.domains.includes(d),
        );
        if (existing.status === "enabled") {
          revokedSessions = await revokeNonSsoSessionsForDomains(trx, added, actor.actorSessionHash, now);
        }
      }
      await insertAuditEvent(
        trx,
        {
          type: "connection.updated",
          organizationId: actor.organizationId,
          actorUserId: actor.actorUserId,
          connectionId: existing.id,
          outcome: "success",
          ip: actor.ip,
          detail: {
            name: edit.name,
            changed,
            ...(changed.includes("name") ? { previousName: existing.name } : {}),
            ...(changed.includes("domains")
              ? { domains: edit.domains, previousDomains: existing.domains }
              : {}),
            ...edit.auditDetail,
            ...(revokedSessions > 0 ? { revokedSessions } : {}),
          },
        },
        now,
      );
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw fieldErrors(
        { name: "This name or one of the domains was just taken. Reload and try again." },
        "CONFLICT",
      );
    }
    throw error;
  }
  await ctx.sessionCache.caughtUp();
  return revokedSessions;
}

export interface ConnectionCreation {
  connection: NewConnection;
  /** The `connection.created` event's detail, given the number of sessions ended. */
  auditDetail: (revokedSessions: number) => Record<string, unknown>;
  /** The name field's message when a unique constraint refuses the insert (a race). */
  takenMessage: string;
  /** Run first in the same transaction; a throw writes nothing (a SAML Create uses up its reserved id). */
  before?: (trx: Kysely<Database>) => Promise<void>;
}

/**
 * Saves a new connection of any protocol in one transaction: the row with its domains, the end
 * of non-SSO sessions at the domains the organization has proven it owns (pending ones end
 * nobody's session; src/domains/verify.ts enforces them once verified), and the audit event.
 * Returns how many sessions were ended.
 */
export async function saveNewConnection(
  ctx: AppContext,
  actor: Pick<ConnectionActor, "organizationId" | "actorUserId" | "actorSessionHash" | "ip">,
  creation: ConnectionCreation,
): Promise<number> {
  const { connection } = creation;
  const now = ctx.now();
  let revokedSessions = 0;
  try {
    await ctx.store.db.transaction().execute(async (trx) => {
      await creation.before?.(trx);
      await insertConnection(trx, connection, now);
      const inserted = await findConnectionById(trx, connection.id);
      revokedSessions = await revokeNonSsoSessionsForDomains(
        trx,
        activeDomains(actor.organizationId, inserted?.domainStatuses ?? [], now),
        actor.actorSessionHash,
        now,
      );
      await insertAuditEvent(
        trx,
        {
          type: "connection.created",
          organizationId: actor.organizationId,
          actorUserId: actor.actorUserId,
          connectionId: connection.id,
          outcome: "success",
          ip: actor.ip,
          detail: creation.auditDetail(revokedSessions),
        },
        now,
      );
    });
  } catch (error) {
    // Two admins racing for the same name or domain: the unique constraints decide.
    if (isUniqueViolation(error)) throw fieldErrors({ name: creation.takenMessage }, "CONFLICT");
    throw error;
  }
  await ctx.sessionCache.caughtUp();
  return revokedSessions;
}
