import type { Kysely } from "kysely";
import { insertAuditEvent } from "../store/audit.js";
import { connectionsListingDomain } from "../store/domains.js";
import type { Database } from "../store/schema.js";
import { revokeNonSsoSessionsForDomains } from "../store/sessions.js";

/**
 * A domain just became verified: if an enabled connection of the organization lists it, SSO is
 * now enforced there, and password and LinkedIn sessions at the domain end, as they do when a
 * connection is created for a verified domain. Runs in the verification's transaction.
 */
export async function enforceOnNewlyActiveDomain(
  trx: Kysely<Database>,
  actor: { organizationId: string; actorUserId: string | null; actorSessionHash?: string | undefined },
  domain: string,
  now: number,
): Promise<number> {
  const connections = await connectionsListingDomain(trx, actor.organizationId, domain);
  const enabled = connections.filter((c) => c.status === "enabled");
  const [connection] = enabled;
  if (!connection) return 0;
  const revoked = await revokeNonSsoSessionsForDomains(trx, [domain], actor.actorSessionHash, now);
  if (revoked > 0) {
    await insertAuditEvent(
      trx,
      {
        type: "sessions.revoked_for_sso",
        organizationId: actor.organizationId,
        actorUserId: actor.actorUserId,
        connectionId: connection.id,
        outcome: "success",
        detail: { domain, revokedSessions: revoked, reason: "domain verified" },
      },
      now,
    );
  }
  return revoked;
}
