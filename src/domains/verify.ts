import { FAILING_GRACE_MS, transitionAfterCheck } from "../domain/organization-domains.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { type AuditEventType, insertAuditEvent } from "../store/audit.js";
import { isUniqueViolation } from "../store/availability.js";
import {
  findDomain,
  findDomainOwnerOrganization,
  type OrganizationDomain,
  recordDomainCheck,
} from "../store/domains.js";
import type { DomainActor } from "./add.js";
import { type DnsCheck, lookupChallenge } from "./dns.js";
import { enforceOnNewlyActiveDomain } from "./enforce.js";

export type VerifyResult =
  | DnsCheck
  /** The record matched, but another organization verified the domain first. */
  | { outcome: "verified_elsewhere" };

export interface VerifyAnswer {
  result: VerifyResult;
  domain: OrganizationDomain;
}

/**
 * The Verify button: looks the record up, records the check and its transition, and audits the
 * attempt whatever it found. Verifying an already verified domain re-checks it (a failing
 * domain recovers; a verified one whose record is gone turns failing).
 */
export async function verifyDomain(ctx: AppContext, actor: DomainActor, id: string): Promise<VerifyAnswer> {
  const domain = await findDomain(ctx.store.db, actor.organizationId, id);
  if (!domain) throw new GatehouseError("DOMAIN_NOT_FOUND", "No such domain in this organization.");
  const check = await lookupChallenge(ctx.config, domain.domain, domain.verificationToken);
  const result = await applyCheck(ctx, domain, check, actor, "dns");
  const after = (await findDomain(ctx.store.db, actor.organizationId, id)) ?? domain;
  return { result, domain: after };
}

/**
 * Writes one check's outcome: the transition (conditional on the state read before, so two
 * instances checking at once write it once), the audit events, and enforcement when the domain
 * just became verified. Shared by the Verify button and the background re-verification.
 */
export async function applyCheck(
  ctx: AppContext,
  domain: OrganizationDomain,
  check: DnsCheck,
  actor: DomainActor,
  trigger: "dns" | "recheck",
): Promise<VerifyResult> {
  const now = ctx.now();
  const next = transitionAfterCheck(domain, check.outcome, now);
  if (next.verifiedNow) {
    const owner = await findDomainOwnerOrganization(ctx.store.db, domain.domain);
    if (owner && owner.organizationId !== domain.organizationId) {
      await auditAttempt(ctx, domain, actor, { outcome: "verified_elsewhere" }, trigger, now);
      return { outcome: "verified_elsewhere" };
    }
  }
  try {
    const written = await ctx.store.db.transaction().execute(async (trx) => {
      const won = await recordDomainCheck(
        trx,
        domain.id,
        domain.state,
        {
          state: next.state,
          failingSince: next.failingSince,
          outcome: check.outcome,
          verified: next.verifiedNow ? { by: "dns", userId: actor.actorUserId } : undefined,
        },
        now,
      );
      if (!won) return false;
      await auditAttempt(ctx, domain, actor, check, trigger, now, trx);
      const transition = transitionEvent(domain.state, next.state);
      if (transition) {
        await insertAuditEvent(
          trx,
          {
            type: transition,
            organizationId: domain.organizationId,
            actorUserId: actor.actorUserId,
            outcome: "success",
            ip: actor.ip,
            detail: { domain: domain.domain, from: domain.state, to: next.state, by: trigger },
          },
          now,
        );
      }
      if (graceEndedSinceLastCheck(domain, next, now)) {
        await insertAuditEvent(
          trx,
          {
            type: "domain.expired",
            organizationId: domain.organizationId,
            actorUserId: actor.actorUserId,
            outcome: "failure",
            reasonCode: check.outcome,
            ip: actor.ip,
            detail: {
              domain: domain.domain,
              failingSince: new Date(next.failingSince ?? now).toISOString(),
              note: "the record was not found for the whole grace period: the domain no longer routes, enforces, provisions or links",
            },
          },
          now,
        );
      }
      if (next.verifiedNow) await enforceOnNewlyActiveDomain(trx, actor, domain.domain, now);
      return true;
    });
    // Another instance changed the state between our read and write: its transition stands.
    if (!written) return check;
    if (next.verifiedNow) await ctx.sessionCache.caughtUp();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    await auditAttempt(ctx, domain, actor, { outcome: "verified_elsewhere" }, trigger, now);
    return { outcome: "verified_elsewhere" };
  }
  return check;
}

/**
 * A failing domain stops working when its grace period ends, by time alone (`isDomainActive`);
 * the first check after that moment records it, once.
 */
function graceEndedSinceLastCheck(
  before: OrganizationDomain,
  next: { state: OrganizationDomain["state"]; failingSince: number | null },
  now: number,
): boolean {
  if (before.state !== "failing" || next.state !== "failing" || next.failingSince === null) return false;
  const graceEnd = next.failingSince + FAILING_GRACE_MS;
  return graceEnd <= now && (before.lastCheckedAt ?? 0) < graceEnd;
}

function transitionEvent(
  from: OrganizationDomain["state"],
  to: OrganizationDomain["state"],
): AuditEventType | undefined {
  if (from === to) return undefined;
  if (to === "verified") return from === "failing" ? "domain.recovered" : "domain.verified";
  if (to === "failing") return "domain.failing";
  return undefined;
}

async function auditAttempt(
  ctx: AppContext,
  domain: OrganizationDomain,
  actor: DomainActor,
  result: VerifyResult,
  trigger: "dns" | "recheck",
  now: number,
  db = ctx.store.db,
): Promise<void> {
  await insertAuditEvent(
    db,
    {
      type: "domain.verification_checked",
      organizationId: domain.organizationId,
      actorUserId: actor.actorUserId,
      outcome: result.outcome === "verified" ? "success" : "failure",
      reasonCode: result.outcome === "verified" ? null : result.outcome,
      ip: actor.ip,
      detail: {
        domain: domain.domain,
        trigger,
        outcome: result.outcome,
        ...("found" in result ? { found: result.found } : {}),
        ...("code" in result ? { code: result.code } : {}),
      },
    },
    now,
  );
}
