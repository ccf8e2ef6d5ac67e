import {
  challengeRecord,
  type DomainStatus,
  displayDomain,
  FAILING_GRACE_MS,
  isDomainActive,
} from "../domain/organization-domains.js";
import type { AppContext } from "../server/context.js";
import { listDomains, type OrganizationDomain } from "../store/domains.js";

/** A domain as the API and the admin console show it. */
export interface DomainView {
  id: string;
  /** Punycode, as stored and as DNS knows it. */
  domain: string;
  /** The same in Unicode, for people. */
  displayName: string;
  state: OrganizationDomain["state"];
  /** Routes, enforces, provisions and links right now (verified, or failing within the grace period). */
  active: boolean;
  /** The TXT record to publish. */
  record: { type: "TXT"; name: string; value: string };
  verifiedAt: string | null;
  verifiedBy: OrganizationDomain["verifiedBy"];
  lastCheckedAt: string | null;
  lastCheckOutcome: OrganizationDomain["lastCheckOutcome"];
  failingSince: string | null;
  /** When a failing domain stops working unless the record is back. */
  graceEndsAt: string | null;
  createdAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDomainView(d: OrganizationDomain, now: number): DomainView {
  const record = challengeRecord(d.domain, d.verificationToken);
  const status: Pick<DomainStatus, "state" | "failingSince"> = d;
  return {
    id: d.id,
    domain: d.domain,
    displayName: displayDomain(d.domain),
    state: d.state,
    active: isDomainActive(status, now),
    record: { type: "TXT", name: record.name, value: record.value },
    verifiedAt: iso(d.verifiedAt),
    verifiedBy: d.verifiedBy,
    lastCheckedAt: iso(d.lastCheckedAt),
    lastCheckOutcome: d.lastCheckOutcome,
    failingSince: iso(d.failingSince),
    graceEndsAt: d.failingSince === null ? null : iso(d.failingSince + FAILING_GRACE_MS),
    createdAt: iso(d.createdAt) ?? "",
  };
}

/** The organization's domains as people see them, in name order. */
export async function listDomainViews(ctx: AppContext, organizationId: string): Promise<DomainView[]> {
  const now = ctx.now();
  return (await listDomains(ctx.store.db, organizationId)).map((d) => toDomainView(d, now));
}
