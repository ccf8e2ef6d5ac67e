import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { connectionsListingDomain, deleteDomainRow, findDomain } from "../store/domains.js";
import type { DomainActor } from "./add.js";

/**
 * Removes a domain from the organization, and so from its connections: from now on it neither
 * routes nor enforces, and another organization may verify it.
 */
export async function removeDomain(ctx: AppContext, actor: DomainActor, id: string): Promise<void> {
  const domain = await findDomain(ctx.store.db, actor.organizationId, id);
  if (!domain) throw new GatehouseError("DOMAIN_NOT_FOUND", "No such domain in this organization.");
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    const connections = await connectionsListingDomain(trx, actor.organizationId, domain.domain);
    // Concurrent removals: only the one that deleted the row records it.
    if (!(await deleteDomainRow(trx, actor.organizationId, id))) {
      throw new GatehouseError("DOMAIN_NOT_FOUND", "No such domain in this organization.");
    }
    await insertAuditEvent(
      trx,
      {
        type: "domain.removed",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        outcome: "success",
        ip: actor.ip,
        detail: { domain: domain.domain, state: domain.state, connections: connections.map((c) => c.name) },
      },
      now,
    );
  });
}
