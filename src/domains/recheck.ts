import type { AppContext } from "../server/context.js";
import { claimDomainCheck, domainsDueForCheck } from "../store/domains.js";
import { lookupChallenge } from "./dns.js";
import { applyCheck } from "./verify.js";

/** Domains checked per maintenance run at most; the rest wait for the next run, ten minutes on. */
const BATCH = 50;

export interface RecheckSummary {
  /** Domains this instance looked up. */
  checked: number;
  /** Due domains another instance claimed first. */
  skipped: number;
}

/**
 * The background re-verification, run by the maintenance job on every instance: each
 * DNS-verified domain is looked up again once per `GATEHOUSE_DOMAIN_RECHECK_INTERVAL_SECONDS`.
 * A record gone turns the domain `failing` (it keeps working for the grace period), a record
 * back makes it verified again; `applyCheck` audits each check and transition. Several instances
 * may run this at once: each due row is claimed with a conditional update first, so exactly one
 * instance looks it up.
 */
export async function recheckDomains(ctx: AppContext): Promise<RecheckSummary> {
  const now = ctx.now();
  const before = now - ctx.config.domainRecheckIntervalSeconds * 1000;
  const due = await domainsDueForCheck(ctx.store.db, before, now, BATCH);
  const summary: RecheckSummary = { checked: 0, skipped: 0 };
  for (const domain of due) {
    if (!(await claimDomainCheck(ctx.store.db, domain, ctx.now()))) {
      summary.skipped += 1;
      continue;
    }
    const check = await lookupChallenge(ctx.config, domain.domain, domain.verificationToken);
    await applyCheck(
      ctx,
      domain,
      check,
      { organizationId: domain.organizationId, actorUserId: null },
      "recheck",
    );
    summary.checked += 1;
  }
  return summary;
}
