import { type Kysely, sql } from "kysely";
import { newId, randomToken } from "../crypto/tokens.js";
import { type DomainStatus, FAILING_GRACE_MS } from "../domain/organization-domains.js";
import type {
  ConnectionStatus,
  Database,
  DomainCheckOutcome,
  DomainState,
  DomainVerifiedBy,
  OrganizationDomainsTable,
} from "./schema.js";

/** A domain as the application sees it. */
export interface OrganizationDomain {
  id: string;
  organizationId: string;
  /** Punycode; show it with `displayDomain`. */
  domain: string;
  state: DomainState;
  verificationToken: string;
  verifiedAt: number | null;
  verifiedBy: DomainVerifiedBy | null;
  verifiedByUserId: string | null;
  lastCheckedAt: number | null;
  lastCheckOutcome: DomainCheckOutcome | null;
  failingSince: number | null;
  createdAt: number;
}

function toDomain(row: OrganizationDomainsTable): OrganizationDomain {
  return {
    id: row.id,
    organizationId: row.organization_id,
    domain: row.domain,
    state: row.state,
    verificationToken: row.verification_token,
    verifiedAt: row.verified_at,
    verifiedBy: row.verified_by,
    verifiedByUserId: row.verified_by_user_id,
    lastCheckedAt: row.last_checked_at,
    lastCheckOutcome: row.last_check_outcome,
    failingSince: row.failing_since,
    createdAt: row.created_at,
  };
}

export function toDomainStatus(d: OrganizationDomain): DomainStatus {
  return { organizationId: d.organizationId, domain: d.domain, state: d.state, failingSince: d.failingSince };
}

/** 192 bits from the CSPRNG: the record cannot be guessed before the admin is shown it. */
export function newVerificationToken(): string {
  return randomToken(24);
}

export interface NewDomain {
  organizationId: string;
  domain: string;
  /** `verified` only for the operator's override; admins add pending domains and prove them. */
  verifiedBy?: { by: DomainVerifiedBy; userId: string | null } | undefined;
}

/**
 * Adds a domain to an organization. A verified insert that another organization already owns
 * fails on the partial unique index (`isUniqueViolation`): the database is the arbiter.
 */
export async function insertDomain(
  db: Kysely<Database>,
  input: NewDomain,
  now: number,
): Promise<OrganizationDomain> {
  const row: OrganizationDomainsTable = {
    id: newId(),
    organization_id: input.organizationId,
    domain: input.domain,
    state: input.verifiedBy ? "verified" : "pending",
    verification_token: newVerificationToken(),
    verified_at: input.verifiedBy ? now : null,
    verified_by: input.verifiedBy?.by ?? null,
    verified_by_user_id: input.verifiedBy?.userId ?? null,
    last_checked_at: null,
    last_check_outcome: null,
    failing_since: null,
    created_at: now,
  };
  await db.insertInto("organization_domains").values(row).execute();
  return toDomain(row);
}

export async function listDomains(
  db: Kysely<Database>,
  organizationId: string,
): Promise<OrganizationDomain[]> {
  const rows = await db
    .selectFrom("organization_domains")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .orderBy("domain")
    .execute();
  return rows.map(toDomain);
}

export async function findDomain(
  db: Kysely<Database>,
  organizationId: string,
  id: string,
): Promise<OrganizationDomain | undefined> {
  const row = await db
    .selectFrom("organization_domains")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .executeTakeFirst();
  return row && toDomain(row);
}

export async function findDomainByName(
  db: Kysely<Database>,
  organizationId: string,
  domain: string,
): Promise<OrganizationDomain | undefined> {
  const row = await db
    .selectFrom("organization_domains")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("domain", "=", domain)
    .executeTakeFirst();
  return row && toDomain(row);
}

export async function findDomainById(
  db: Kysely<Database>,
  id: string,
): Promise<OrganizationDomain | undefined> {
  const row = await db.selectFrom("organization_domains").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toDomain(row);
}

/** The organization that has verified `domain` (or is in its grace period), if any. */
export async function findDomainOwnerOrganization(
  db: Kysely<Database>,
  domain: string,
): Promise<{ organizationId: string; state: DomainState } | undefined> {
  return db
    .selectFrom("organization_domains")
    .select(["organization_id as organizationId", "state"])
    .where("domain", "=", domain)
    .where("state", "!=", "pending")
    .executeTakeFirst();
}

export interface DomainCheckResult {
  state: DomainState;
  failingSince: number | null;
  outcome: DomainCheckOutcome;
  /** Set when the domain turns verified now. */
  verified?: { by: DomainVerifiedBy; userId: string | null } | undefined;
}

/**
 * Records a check and its transition. `expectedState` makes the update conditional, so two
 * instances that checked the same domain at once write one transition, not two; answers
 * whether this caller's write won.
 */
export async function recordDomainCheck(
  db: Kysely<Database>,
  id: string,
  expectedState: DomainState,
  result: DomainCheckResult,
  now: number,
): Promise<boolean> {
  const update = await db
    .updateTable("organization_domains")
    .set({
      state: result.state,
      failing_since: result.failingSince,
      last_checked_at: now,
      last_check_outcome: result.outcome,
      ...(result.verified
        ? { verified_at: now, verified_by: result.verified.by, verified_by_user_id: result.verified.userId }
        : {}),
    })
    .where("id", "=", id)
    .where("state", "=", expectedState)
    .executeTakeFirst();
  return Number(update.numUpdatedRows) > 0;
}

/** The operator's override on a domain the organization already holds pending. */
export async function markDomainVerified(
  db: Kysely<Database>,
  id: string,
  verified: { by: DomainVerifiedBy; userId: string | null },
  now: number,
): Promise<boolean> {
  const update = await db
    .updateTable("organization_domains")
    .set({
      state: "verified",
      failing_since: null,
      verified_at: now,
      verified_by: verified.by,
      verified_by_user_id: verified.userId,
    })
    .where("id", "=", id)
    .where("state", "=", "pending")
    .executeTakeFirst();
  return Number(update.numUpdatedRows) > 0;
}

export async function deleteDomainRow(
  db: Kysely<Database>,
  organizationId: string,
  id: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("organization_domains")
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Connections of the organization that list the domain (what stops working when it is removed). */
export async function connectionsListingDomain(
  db: Kysely<Database>,
  organizationId: string,
  domain: string,
): Promise<{ id: string; name: string; status: ConnectionStatus }[]> {
  return db
    .selectFrom("connection_domains")
    .innerJoin("connections", "connections.id", "connection_domains.connection_id")
    .select(["connections.id as id", "connections.name as name", "connections.status as status"])
    .where("connection_domains.organization_id", "=", organizationId)
    .where("connection_domains.domain", "=", domain)
    .execute();
}

/**
 * Makes sure every domain a connection lists exists for its organization, adding the missing
 * ones as pending. Call in the connection's transaction, before inserting its domain rows.
 */
export async function ensureOrganizationDomains(
  db: Kysely<Database>,
  organizationId: string,
  domains: readonly string[],
  now: number,
): Promise<OrganizationDomain[]> {
  const existing = await db
    .selectFrom("organization_domains")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("domain", "in", domains.length > 0 ? [...domains] : [""])
    .execute();
  const result = existing.map(toDomain);
  for (const domain of domains) {
    if (result.some((d) => d.domain === domain)) continue;
    result.push(await insertDomain(db, { organizationId, domain }, now));
  }
  return result;
}

/**
 * DNS-verified domains (verified or failing; at most `limit`) due for a check: last checked
 * before `before`, or failing with a grace period that ended after their last check (so the
 * moment a failing domain stops routing is checked and audited promptly, not a day later).
 * Operator-verified domains are never re-checked by DNS: the operator vouched for them.
 */
export async function domainsDueForCheck(
  db: Kysely<Database>,
  before: number,
  now: number,
  limit: number,
): Promise<OrganizationDomain[]> {
  const rows = await db
    .selectFrom("organization_domains")
    .selectAll()
    .where("state", "!=", "pending")
    .where("verified_by", "=", "dns")
    .where((eb) =>
      eb.or([
        eb("last_checked_at", "is", null),
        eb("last_checked_at", "<", before),
        eb.and([
          eb("state", "=", "failing"),
          eb("failing_since", "<=", now - FAILING_GRACE_MS),
          eb("last_checked_at", "<", sql<number>`failing_since + ${FAILING_GRACE_MS}`),
        ]),
      ]),
    )
    .orderBy("last_checked_at")
    .limit(limit)
    .execute();
  return rows.map(toDomain);
}

/**
 * Claims a domain's check for this instance: moves `last_checked_at` from the value it was read
 * with to `now`. Of several instances that read the same row, exactly one sees a row updated.
 */
export async function claimDomainCheck(
  db: Kysely<Database>,
  domain: Pick<OrganizationDomain, "id" | "lastCheckedAt">,
  now: number,
): Promise<boolean> {
  const update = await db
    .updateTable("organization_domains")
    .set({ last_checked_at: now })
    .where("id", "=", domain.id)
    .where((eb) =>
      domain.lastCheckedAt === null
        ? eb("last_checked_at", "is", null)
        : eb("last_checked_at", "=", domain.lastCheckedAt),
    )
    .executeTakeFirst();
  return Number(update.numUpdatedRows) > 0;
}
