import type { Kysely } from "kysely";
import { type DomainStatus, isDomainActive } from "../domain/organization-domains.js";
import {
  checkRoleRule,
  DEFAULT_GROUPS_CLAIM,
  DEFAULT_ROLE,
  type RolePolicy,
  type RoleRule,
} from "../domain/provider-roles.js";
import {
  insertOidcSettings,
  type NewOidcSettings,
  OIDC_SELECTION,
  type OidcColumns,
  type OidcSettings,
  readOidcSettings,
  updateOidcSettings,
} from "./connection-oidc.js";
import {
  insertSamlSettings,
  type NewSamlSettings,
  readSamlSettings,
  SAML_SELECTION,
  type SamlColumns,
  type SamlConnectionSettings,
  updateSamlSettings,
} from "./connection-saml.js";
import { ensureOrganizationDomains } from "./domains.js";
import { prepared } from "./prepared.js";
import type { ConnectionProtocol, ConnectionStatus, Database, DomainState } from "./schema.js";

export type { NewOidcSettings, OidcSettings } from "./connection-oidc.js";
export type { NewSamlSettings, SamlConnectionSettings } from "./connection-saml.js";

/** What every connection has, whatever its protocol. */
export interface ConnectionBase {
  id: string;
  organizationId: string;
  name: string;
  status: ConnectionStatus;
  /** Every domain the connection lists, pending ones included. */
  domains: string[];
  /** The same domains with their organization's verification state: what the rules decide on. */
  domainStatuses: DomainStatus[];
  createdByUserId: string | null;
  createdAt: number;
  updatedAt: number;
  /** Roles from the provider's groups (src/domain/provider-roles.ts). */
  roles: RolePolicy;
}

export interface OidcConnection extends ConnectionBase {
  protocol: "oidc";
  oidc: OidcSettings;
}

export interface SamlConnection extends ConnectionBase {
  protocol: "saml";
  saml: SamlConnectionSettings;
}

/**
 * A connection as the application sees it: the common row and its protocol's settings, told
 * apart by `protocol`. A protocol adds a member here, a reader in `SETTINGS_READERS`, a join in
 * `selectConnections` and an insert in `insertConnection`.
 */
export type Connection = OidcConnection | SamlConnection;

/** The stored rules; a row that does not parse as rules (never written so) maps nothing. */
function readRoleRules(json: string): RoleRule[] {
  try {
    const parsed: unknown = JSON.parse(json);
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((r) => {
      const checked =
        r && typeof r === "object" && typeof r.group === "string" && typeof r.role === "string"
          ? checkRoleRule(r)
          : "invalid";
      return typeof checked === "string" ? [] : [checked];
    });
  } catch {
    return [];
  }
}

type Row = Database["connections"] & OidcColumns & SamlColumns;

interface ListedDomain {
  domain: string;
  state: DomainState | null;
  failing_since: number | null;
}

/** Each protocol's settings from the joined row. */
const SETTINGS_READERS: {
  [P in ConnectionProtocol]: (row: Row, base: ConnectionBase) => Extract<Connection, { protocol: P }>;
} = {
  oidc: (row, base) => ({ ...base, protocol: "oidc", oidc: readOidcSettings(row) }),
  saml: (row, base) => ({ ...base, protocol: "saml", saml: readSamlSettings(row) }),
};

/**
 * Connections with every protocol's settings left-joined (only the row's own protocol has
 * any): one round trip, whatever the protocol. Every lookup starts here.
 */
function selectConnections(db: Kysely<Database>) {
  return db
    .selectFrom("connections")
    .leftJoin("connection_oidc", "connection_oidc.connection_id", "connections.id")
    .leftJoin("connection_saml", "connection_saml.connection_id", "connections.id")
    .selectAll("connections")
    .select(OIDC_SELECTION)
    .select(SAML_SELECTION);
}

function toConnection(row: Row, listed: ListedDomain[]): Connection {
  const domains = listed.map((d) => d.domain);
  const domainStatuses = listed.map((d) => ({
    organizationId: row.organization_id,
    domain: d.domain,
    // Every listed domain has an organization row (foreign key); a missing one counts as pending.
    state: d.state ?? "pending",
    failingSince: d.failing_since,
  }));
  const base: ConnectionBase = {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    status: row.status,
    domains,
    domainStatuses,
    createdByUserId: row.created_by_user_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    roles: {
      groupsClaim: row.groups_claim,
      rules: readRoleRules(row.role_rules),
      defaultRole: row.default_role === "admin" ? "admin" : "member",
    },
  };
  return SETTINGS_READERS[row.protocol](row, base);
}

async function withDomains(db: Kysely<Database>, rows: Row[]): Promise<Connection[]> {
  if (rows.length === 0) return [];
  const domains = await db
    .selectFrom("connection_domains")
    .leftJoin("organization_domains as od", (join) =>
      join
        .onRef("od.organization_id", "=", "connection_domains.organization_id")
        .onRef("od.domain", "=", "connection_domains.domain"),
    )
    .select([
      "connection_domains.domain as domain",
      "connection_id",
      "od.state as state",
      "od.failing_since as failing_since",
    ])
    .where(
      "connection_id",
      "in",
      rows.map((r) => r.id),
    )
    .orderBy("connection_domains.domain")
    .execute();
  return rows.map((r) =>
    toConnection(
      r,
      domains.filter((d) => d.connection_id === r.id),
    ),
  );
}

interface NewConnectionBase {
  id: string;
  organizationId: string;
  name: string;
  domains: string[];
  createdByUserId: string | null;
  roles?: RolePolicy;
}

export type NewConnection = NewConnectionBase &
  ({ protocol: "oidc"; oidc: NewOidcSettings } | { protocol: "saml"; saml: NewSamlSettings });

/**
 * Inserts the connection, its protocol's settings and its domains, adding to the organization
 * those it does not hold yet (as pending); call inside a transaction so all land or none.
 */
export async function insertConnection(db: Kysely<Database>, c: NewConnection, now: number): Promise<void> {
  await db
    .insertInto("connections")
    .values({
      id: c.id,
      organization_id: c.organizationId,
      protocol: c.protocol,
      name: c.name,
      name_key: c.name.toLowerCase(),
      status: "enabled",
      created_by_user_id: c.createdByUserId,
      created_at: now,
      updated_at: now,
      groups_claim: c.roles?.groupsClaim ?? DEFAULT_GROUPS_CLAIM,
      role_rules: JSON.stringify(c.roles?.rules ?? []),
      default_role: c.roles?.defaultRole ?? DEFAULT_ROLE,
    })
    .execute();
  switch (c.protocol) {
    case "oidc":
      await insertOidcSettings(db, c.id, c.oidc);
      break;
    case "saml":
      await insertSamlSettings(db, c.id, c.saml);
      break;
  }
  await ensureOrganizationDomains(db, c.organizationId, c.domains, now);
  if (c.domains.length === 0) return;
  await db
    .insertInto("connection_domains")
    .values(c.domains.map((domain) => ({ domain, connection_id: c.id, organization_id: c.organizationId })))
    .execute();
}

/** Oldest first; `page` reads `limit` rows after the (created_at, id) key `after`. */
export async function listConnections(
  db: Kysely<Database>,
  organizationId: string,
  page?: { limit: number; after?: readonly [number, string] | undefined },
): Promise<Connection[]> {
  let query = selectConnections(db)
    .where("connections.organization_id", "=", organizationId)
    .orderBy("connections.created_at")
    .orderBy("connections.id");
  const after = page?.after;
  if (after)
    query = query.where((eb) =>
      eb(eb.refTuple("connections.created_at", "connections.id"), ">", eb.tuple(after[0], after[1])),
    );
  if (page) query = query.limit(page.limit);
  return withDomains(db, await query.execute());
}

export async function findConnection(
  db: Kysely<Database>,
  organizationId: string,
  id: string,
): Promise<Connection | undefined> {
  const row = await selectConnections(db)
    .where("connections.organization_id", "=", organizationId)
    .where("connections.id", "=", id)
    .executeTakeFirst();
  return row ? (await withDomains(db, [row]))[0] : undefined;
}

const connectionById = prepared(["id"], (db, { id }: { id: string }) =>
  selectConnections(db)
    .leftJoin("connection_domains", "connection_domains.connection_id", "connections.id")
    .leftJoin("organization_domains as od", (join) =>
      join
        .onRef("od.organization_id", "=", "connection_domains.organization_id")
        .onRef("od.domain", "=", "connection_domains.domain"),
    )
    .select(["connection_domains.domain as domain", "od.state as state", "od.failing_since as failing_since"])
    .where("connections.id", "=", id)
    .orderBy("connection_domains.domain"),
);

/**
 * One connection with its domains in a single round trip: every sign-in callback reads it (its
 * SQL built once, see `prepared`).
 */
export async function findConnectionById(db: Kysely<Database>, id: string): Promise<Connection | undefined> {
  const { rows } = await connectionById(db, { id });
  const [first] = rows;
  if (!first) return undefined;
  const { domain: _, state: _s, failing_since: _f, ...row } = first;
  return toConnection(row, listedDomains(rows));
}

function listedDomains(
  rows: { domain: string | null; state: DomainState | null; failing_since: number | null }[],
): ListedDomain[] {
  return rows.flatMap((r) =>
    r.domain === null ? [] : [{ domain: r.domain, state: r.state, failing_since: r.failing_since }],
  );
}

export async function findConnectionByName(
  db: Kysely<Database>,
  name: string,
): Promise<Connection | undefined> {
  const row = await selectConnections(db)
    .where("connections.name_key", "=", name.trim().toLowerCase())
    .executeTakeFirst();
  return row ? (await withDomains(db, [row]))[0] : undefined;
}

// The matched domain finds the connection; the second join brings all of its domains, in the
// same round trip (every email-first sign-in and password attempt asks this).
const enabledConnectionForDomain = prepared(["domain"], (db, { domain }: { domain: string }) =>
  selectConnections(db)
    .innerJoin("connection_domains as matched", "matched.connection_id", "connections.id")
    .innerJoin("organization_domains as owned", (join) =>
      join
        .onRef("owned.organization_id", "=", "matched.organization_id")
        .onRef("owned.domain", "=", "matched.domain"),
    )
    .innerJoin("organizations", "organizations.id", "connections.organization_id")
    .innerJoin("connection_domains as all_domains", "all_domains.connection_id", "connections.id")
    .leftJoin("organization_domains as od", (join) =>
      join
        .onRef("od.organization_id", "=", "all_domains.organization_id")
        .onRef("od.domain", "=", "all_domains.domain"),
    )
    .select([
      "organizations.name as organization_name",
      "owned.state as owned_state",
      "owned.failing_since as owned_failing_since",
      "all_domains.domain as domain",
      "od.state as state",
      "od.failing_since as failing_since",
    ])
    .where("matched.domain", "=", domain)
    .where("owned.state", "!=", "pending")
    .where("connections.status", "=", "enabled")
    .orderBy("all_domains.domain"),
);

/**
 * The routing and enforcement lookup: the enabled connection listing `domain` whose organization
 * has verified it (or is within the grace period of a failing re-verification) at `now`.
 * A connection that lists the domain while its organization has not proven it is never found:
 * pending domains neither route nor enforce.
 */
export async function findEnabledConnectionForDomain(
  db: Kysely<Database>,
  domain: string,
  now: number,
): Promise<(Connection & { organizationName: string }) | undefined> {
  const { rows } = await enabledConnectionForDomain(db, { domain: domain.toLowerCase() });
  const [first] = rows;
  if (!first) return undefined;
  if (!isDomainActive({ state: first.owned_state, failingSince: first.owned_failing_since }, now))
    return undefined;
  const {
    organization_name,
    owned_state: _o,
    owned_failing_since: _of,
    domain: _d,
    state: _s,
    failing_since: _f,
    ...connection
  } = first;
  return { ...toConnection(connection, listedDomains(rows)), organizationName: organization_name };
}

export async function deleteConnectionRow(
  db: Kysely<Database>,
  organizationId: string,
  id: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("connections")
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Moves a connection to `status`; true when this call changed it. Of two concurrent disables only
 * one sees the change, so only one records it.
 */
export async function setConnectionStatus(
  db: Kysely<Database>,
  id: string,
  status: ConnectionStatus,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("connections")
    .set({ status, updated_at: now })
    .where("id", "=", id)
    .where("status", "!=", status)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The settings an edit may change; the others stay as they are. */
export interface ConnectionChanges {
  name?: string;
  roles?: RolePolicy;
  /** For an OpenID Connect connection only. */
  oidc?: Partial<OidcSettings>;
  /** For a SAML connection only. */
  saml?: Partial<SamlConnectionSettings>;
}

/**
 * Applies an edit, if the row is still at `expectedUpdatedAt`: of two admins saving the same
 * connection at once, the second is told to reload rather than silently undoing the first.
 * True when the row was updated. Call inside a transaction: the settings follow the claim.
 */
export async function updateConnectionRow(
  db: Kysely<Database>,
  id: string,
  expectedUpdatedAt: number,
  c: ConnectionChanges,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("connections")
    .set({
      ...(c.name !== undefined ? { name: c.name, name_key: c.name.toLowerCase() } : {}),
      ...(c.roles !== undefined
        ? {
            groups_claim: c.roles.groupsClaim,
            role_rules: JSON.stringify(c.roles.rules),
            default_role: c.roles.defaultRole,
          }
        : {}),
      updated_at: now,
    })
    .where("id", "=", id)
    .where("updated_at", "=", expectedUpdatedAt)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  if (c.oidc) await updateOidcSettings(db, id, c.oidc);
  if (c.saml) await updateSamlSettings(db, id, c.saml);
  return true;
}

/**
 * Makes the connection list exactly `domains`: removed ones stop routing to it at once, added
 * ones join the organization's domains (as pending when it does not hold them yet).
 */
export async function replaceConnectionDomains(
  db: Kysely<Database>,
  connection: Pick<Connection, "id" | "organizationId" | "domains">,
  domains: readonly string[],
  now: number,
): Promise<void> {
  const removed = connection.domains.filter((d) => !domains.includes(d));
  const added = domains.filter((d) => !connection.domains.includes(d));
  if (removed.length > 0) {
    await db
      .deleteFrom("connection_domains")
      .where("connection_id", "=", connection.id)
      .where("domain", "in", removed)
      .execute();
  }
  if (added.length === 0) return;
  await ensureOrganizationDomains(db, connection.organizationId, added, now);
  await db
    .insertInto("connection_domains")
    .values(
      added.map((domain) => ({
        domain,
        connection_id: connection.id,
        organization_id: connection.organizationId,
      })),
    )
    .execute();
}
