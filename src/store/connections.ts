import type { Kysely } from "kysely";
import type { ConnectionStatus, Database, TokenEndpointAuthMethod } from "./schema.js";

/** A connection as the application sees it: the client secret stays sealed until a flow needs it. */
export interface Connection {
  id: string;
  organizationId: string;
  type: "oidc";
  name: string;
  issuer: string;
  clientId: string;
  clientSecretSealed: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod | null;
  scopes: string;
  status: ConnectionStatus;
  domains: string[];
  createdByUserId: string | null;
  createdAt: number;
  updatedAt: number;
  emailClaim: string;
  clockSkewSeconds: number;
  signingKeySealed: string | null;
  signingKid: string | null;
  idTokenIssuer: string | null;
}

type Row = Database["connections"];

function toConnection(row: Row, domains: string[]): Connection {
  return {
    id: row.id,
    organizationId: row.organization_id,
    type: row.type,
    name: row.name,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecretSealed: row.client_secret_sealed,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    scopes: row.scopes,
    status: row.status,
    domains,
    createdByUserId: row.created_by_user_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    emailClaim: row.email_claim,
    clockSkewSeconds: row.clock_skew_seconds,
    signingKeySealed: row.signing_key_sealed,
    signingKid: row.signing_kid,
    idTokenIssuer: row.id_token_issuer,
  };
}

async function withDomains(db: Kysely<Database>, rows: Row[]): Promise<Connection[]> {
  if (rows.length === 0) return [];
  const domains = await db
    .selectFrom("connection_domains")
    .select(["domain", "connection_id"])
    .where(
      "connection_id",
      "in",
      rows.map((r) => r.id),
    )
    .orderBy("domain")
    .execute();
  return rows.map((r) =>
    toConnection(
      r,
      domains.filter((d) => d.connection_id === r.id).map((d) => d.domain),
    ),
  );
}

export interface NewConnection {
  id: string;
  organizationId: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecretSealed: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod | null;
  scopes: string;
  domains: string[];
  createdByUserId: string | null;
  emailClaim?: string;
  clockSkewSeconds?: number;
  signingKeySealed?: string | null;
  signingKid?: string | null;
  idTokenIssuer?: string | null;
}

/** Inserts the connection and its domains; call inside a transaction so both land or neither. */
export async function insertConnection(db: Kysely<Database>, c: NewConnection, now: number): Promise<void> {
  await db
    .insertInto("connections")
    .values({
      id: c.id,
      organization_id: c.organizationId,
      type: "oidc",
      name: c.name,
      name_key: c.name.toLowerCase(),
      issuer: c.issuer,
      client_id: c.clientId,
      client_secret_sealed: c.clientSecretSealed,
      token_endpoint_auth_method: c.tokenEndpointAuthMethod,
      scopes: c.scopes,
      status: "enabled",
      created_by_user_id: c.createdByUserId,
      created_at: now,
      updated_at: now,
      email_claim: c.emailClaim ?? "email",
      clock_skew_seconds: c.clockSkewSeconds ?? 60,
      signing_key_sealed: c.signingKeySealed ?? null,
      signing_kid: c.signingKid ?? null,
      id_token_issuer: c.idTokenIssuer ?? null,
    })
    .execute();
  await db
    .insertInto("connection_domains")
    .values(c.domains.map((domain) => ({ domain, connection_id: c.id, organization_id: c.organizationId })))
    .execute();
}

export async function listConnections(db: Kysely<Database>, organizationId: string): Promise<Connection[]> {
  const rows = await db
    .selectFrom("connections")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .orderBy("created_at")
    .execute();
  return withDomains(db, rows);
}

export async function findConnection(
  db: Kysely<Database>,
  organizationId: string,
  id: string,
): Promise<Connection | undefined> {
  const row = await db
    .selectFrom("connections")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? (await withDomains(db, [row]))[0] : undefined;
}

/** One connection with its domains in a single round trip: every sign-in callback reads it. */
export async function findConnectionById(db: Kysely<Database>, id: string): Promise<Connection | undefined> {
  const rows = await db
    .selectFrom("connections")
    .innerJoin("connection_domains", "connection_domains.connection_id", "connections.id")
    .selectAll("connections")
    .select("connection_domains.domain as domain")
    .where("connections.id", "=", id)
    .orderBy("connection_domains.domain")
    .execute();
  const [first] = rows;
  if (!first) return undefined;
  const { domain: _, ...row } = first;
  return toConnection(
    row,
    rows.map((r) => r.domain),
  );
}

export async function findConnectionByName(
  db: Kysely<Database>,
  name: string,
): Promise<Connection | undefined> {
  const row = await db
    .selectFrom("connections")
    .selectAll()
    .where("name_key", "=", name.trim().toLowerCase())
    .executeTakeFirst();
  return row ? (await withDomains(db, [row]))[0] : undefined;
}

/** The enabled connection that owns an email domain, if any: the routing and enforcement lookup. */
export async function findEnabledConnectionForDomain(
  db: Kysely<Database>,
  domain: string,
): Promise<(Connection & { organizationName: string }) | undefined> {
  // The matched domain finds the connection; the second join brings all of its domains, in
  // the same round trip (every email-first sign-in and password attempt asks this).
  const rows = await db
    .selectFrom("connection_domains as matched")
    .innerJoin("connections", "connections.id", "matched.connection_id")
    .innerJoin("organizations", "organizations.id", "connections.organization_id")
    .innerJoin("connection_domains as all_domains", "all_domains.connection_id", "connections.id")
    .selectAll("connections")
    .select(["organizations.name as organization_name", "all_domains.domain as domain"])
    .where("matched.domain", "=", domain.toLowerCase())
    .where("connections.status", "=", "enabled")
    .orderBy("all_domains.domain")
    .execute();
  const [first] = rows;
  if (!first) return undefined;
  const { organization_name, domain: _, ...connection } = first;
  return {
    ...toConnection(
      connection,
      rows.map((r) => r.domain),
    ),
    organizationName: organization_name,
  };
}

export async function findDomainOwner(
  db: Kysely<Database>,
  domain: string,
): Promise<{ connectionId: string; organizationId: string } | undefined> {
  return db
    .selectFrom("connection_domains")
    .select(["connection_id as connectionId", "organization_id as organizationId"])
    .where("domain", "=", domain.toLowerCase())
    .executeTakeFirst();
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
