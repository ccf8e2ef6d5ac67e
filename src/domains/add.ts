import { checkClaimableDomain, describeRefusal } from "../domain/organization-domains.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { isUniqueViolation } from "../store/availability.js";
import {
  findDomainByName,
  findDomainOwnerOrganization,
  insertDomain,
  markDomainVerified,
  type OrganizationDomain,
} from "../store/domains.js";
import { enforceOnNewlyActiveDomain } from "./enforce.js";

export interface DomainActor {
  organizationId: string;
  /** The admin acting; null for API keys and the operator's CLI. */
  actorUserId: string | null;
  ip?: string | undefined;
  /** The admin's own session survives enforcement starting at a domain they just verified. */
  actorSessionHash?: string | undefined;
}

export interface AddDomainOptions {
  /**
   * The operator's override (`domain add --verified`): verified without DNS, audited as such.
   * It may claim a consumer mail domain the list gets wrong (a provider's own staff domain), but
   * never a public suffix, and never a domain another organization has verified.
   */
  operatorVerified?: boolean;
}

/**
 * Adds a domain to an organization, pending until the TXT record is found (or verified at once by
 * the operator). Refused: what is not a domain, public suffixes, consumer mail domains; a domain
 * another organization has verified may still be held pending (it never moves without its owner
 * removing it), so a squatter's pending claim cannot block the real owner either.
 */
export async function addDomain(
  ctx: AppContext,
  actor: DomainActor,
  input: string,
  options: AddDomainOptions = {},
): Promise<OrganizationDomain> {
  const claim = checkClaimableDomain(input);
  const operatorMayOverride = options.operatorVerified && !claim.ok && claim.reason === "consumer_mail";
  if (!claim.ok && !operatorMayOverride) {
    throw new GatehouseError("DOMAIN_NOT_ALLOWED", describeRefusal(input, claim.reason), {
      fields: { domain: describeRefusal(input, claim.reason) },
      detail: `refused ${JSON.stringify(input.slice(0, 100))}: ${claim.reason}`,
    });
  }
  const domain = claim.ok ? claim.domain : (input.trim().toLowerCase().replace(/\.$/, "") as string);
  const held = await findDomainByName(ctx.store.db, actor.organizationId, domain);
  // The operator may vouch for a domain the organization already holds pending.
  if (held && !(options.operatorVerified && held.state === "pending")) {
    throw new GatehouseError("CONFLICT", `${domain} is already one of your organization's domains.`, {
      fields: { domain: `${domain} is already one of your organization's domains.` },
    });
  }
  if (options.operatorVerified) {
    const owner = await findDomainOwnerOrganization(ctx.store.db, domain);
    if (owner) throw verifiedElsewhere(domain);
  }
  const now = ctx.now();
  try {
    const added = await ctx.store.db.transaction().execute(async (trx) => {
      const verifiedBy = { by: "operator" as const, userId: actor.actorUserId };
      if (held && !(await markDomainVerified(trx, held.id, verifiedBy, now))) {
        throw new GatehouseError("CONFLICT", `${domain} changed meanwhile. Reload and try again.`);
      }
      const added = held
        ? {
            ...held,
            state: "verified" as const,
            verifiedAt: now,
            verifiedBy: "operator" as const,
            verifiedByUserId: actor.actorUserId,
          }
        : await insertDomain(
            trx,
            {
              organizationId: actor.organizationId,
              domain,
              verifiedBy: options.operatorVerified ? verifiedBy : undefined,
            },
            now,
          );
      await insertAuditEvent(
        trx,
        {
          type: options.operatorVerified ? "domain.verified" : "domain.added",
          organizationId: actor.organizationId,
          actorUserId: actor.actorUserId,
          outcome: "success",
          ip: actor.ip,
          detail: {
            domain,
            state: added.state,
            ...(options.operatorVerified
              ? { by: "operator", note: "operator override: verified without a DNS record" }
              : {}),
            ...(operatorMayOverride ? { consumerMailDomain: true } : {}),
          },
        },
        now,
      );
      if (options.operatorVerified) await enforceOnNewlyActiveDomain(trx, actor, domain, now);
      return added;
    });
    if (options.operatorVerified) await ctx.sessionCache.caughtUp();
    return added;
  } catch (error) {
    // Two organizations verifying one domain at once: the partial unique index decides.
    if (isUniqueViolation(error)) {
      throw options.operatorVerified
        ? verifiedElsewhere(domain)
        : new GatehouseError("CONFLICT", `${domain} was just added. Reload and try again.`, {
            fields: { domain: `${domain} was just added. Reload and try again.` },
          });
    }
    throw error;
  }
}

export function verifiedElsewhere(domain: string): GatehouseError {
  return new GatehouseError("DOMAIN_VERIFIED_ELSEWHERE", `${domain} is verified by another organization.`, {
    fields: { domain: `${domain} is verified by another organization.` },
    detail: `${domain} is verified by another organization`,
  });
}
