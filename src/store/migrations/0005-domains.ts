import { randomBytes, randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import { checkClaimableDomain } from "../../domain/organization-domains.js";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

const NOTE =
  "carried over by migration 0005-domains from a connection created before domain verification; publish the TXT record so the daily check can confirm it";

/**
 * Organization domains: an organization owns domains (proven by a DNS TXT record, or vouched for
 * by the operator); connections list them. A domain is verified by at most one organization,
 * while any number may hold it pending.
 *
 * `connection_domains` is rebuilt so that a domain is unique per organization rather than across
 * the deployment (several organizations may list one pending domain), and each row points at the
 * organization's domain, so removing a domain takes it off the organization's connections.
 *
 * Existing deployments: every domain of an existing connection is carried over as verified by
 * the operator, with an audit note, so an upgrade does not silently stop anyone's sign-in —
 * except public suffixes and consumer mail domains (`gmail.com`), which are carried over as
 * pending: those claims are exactly the takeover this migration closes.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("organization_domains")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) =>
      c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("domain", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("verification_token", "text", (c) => c.notNull())
    .addColumn("verified_at", "bigint")
    .addColumn("verified_by", "text")
    .addColumn("verified_by_user_id", "text")
    .addColumn("last_checked_at", "bigint")
    .addColumn("last_check_outcome", "text")
    .addColumn("failing_since", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("organization_domains_org_domain_uq", ["organization_id", "domain"])
    .execute();
  // The ownership rule itself, in the database so two organizations racing to verify one domain
  // cannot both win. Same partial-index syntax on SQLite and PostgreSQL.
  await sql`create unique index organization_domains_owner_uq on organization_domains (domain) where state <> 'pending'`.execute(
    db,
  );
  await db.schema
    .createIndex("organization_domains_checked_idx")
    .on("organization_domains")
    .column("last_checked_at")
    .execute();

  await db.schema
    .createTable("connection_domains_v5")
    .addColumn("connection_id", "text", (c) => c.notNull().references("connections.id").onDelete("cascade"))
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("domain", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("connection_domains_v5_pk", ["connection_id", "domain"])
    .addUniqueConstraint("connection_domains_v5_org_domain_uq", ["organization_id", "domain"])
    .addForeignKeyConstraint(
      "connection_domains_v5_domain_fk",
      ["organization_id", "domain"],
      "organization_domains",
      ["organization_id", "domain"],
      (c) => c.onDelete("cascade"),
    )
    .execute();

  const existing = (await db
    .selectFrom("connection_domains")
    .innerJoin("connections", "connections.id", "connection_domains.connection_id")
    .select([
      "connection_domains.domain as domain",
      "connection_domains.connection_id as connection_id",
      "connection_domains.organization_id as organization_id",
      "connections.name as connection_name",
    ])
    .orderBy("connection_domains.domain")
    .execute()) as {
    domain: string;
    connection_id: string;
    organization_id: string;
    connection_name: string;
  }[];

  const now = Date.now();
  for (const row of existing) {
    const claimable = checkClaimableDomain(row.domain);
    const state = claimable.ok ? "verified" : "pending";
    await db
      .insertInto("organization_domains")
      .values({
        id: randomUUID(),
        organization_id: row.organization_id,
        domain: row.domain,
        state,
        verification_token: randomBytes(24).toString("base64url"),
        verified_at: claimable.ok ? now : null,
        verified_by: claimable.ok ? "operator" : null,
        verified_by_user_id: null,
        last_checked_at: null,
        last_check_outcome: null,
        failing_since: null,
        created_at: now,
      })
      .execute();
    await db
      .insertInto("audit_events")
      .values({
        id: randomUUID(),
        organization_id: row.organization_id,
        type: claimable.ok ? "domain.verified" : "domain.added",
        outcome: "success",
        actor_user_id: null,
        user_id: null,
        connection_id: row.connection_id,
        email: null,
        subject: null,
        reason_code: null,
        detail: JSON.stringify({
          domain: row.domain,
          state,
          by: claimable.ok ? "operator" : undefined,
          migration: "0005-domains",
          note: claimable.ok
            ? NOTE
            : `left pending: ${claimable.reason === "consumer_mail" ? "a public email provider" : "a public suffix"} cannot be owned by one organization`,
          connection: row.connection_name,
        }),
        trace_id: null,
        ip: null,
        created_at: now,
      })
      .execute();
  }

  await sql`insert into connection_domains_v5 (connection_id, organization_id, domain) select connection_id, organization_id, domain from connection_domains`.execute(
    db,
  );
  await db.schema.dropTable("connection_domains").execute();
  await db.schema.alterTable("connection_domains_v5").renameTo("connection_domains").execute();
  await db.schema
    .createIndex("connection_domains_domain_idx")
    .on("connection_domains")
    .column("domain")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("connection_domains_v1")
    .addColumn("domain", "text", (c) => c.primaryKey())
    .addColumn("connection_id", "text", (c) => c.notNull().references("connections.id").onDelete("cascade"))
    .addColumn("organization_id", "text", (c) =>
      c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .execute();
  // The old table holds one listing per domain: keep one, preferring the verifying organization's.
  await sql`insert into connection_domains_v1 (domain, connection_id, organization_id)
    select cd.domain, cd.connection_id, cd.organization_id from connection_domains cd
    where cd.connection_id = (
      select min(x.connection_id) from connection_domains x
      left join organization_domains od on od.organization_id = x.organization_id and od.domain = x.domain
      where x.domain = cd.domain and coalesce(od.state, 'pending') = (
        select coalesce(max(od2.state), 'pending') from connection_domains y
        left join organization_domains od2 on od2.organization_id = y.organization_id and od2.domain = y.domain
        where y.domain = cd.domain))`.execute(db);
  await db.schema.dropTable("connection_domains").execute();
  await db.schema.alterTable("connection_domains_v1").renameTo("connection_domains").execute();
  await db.schema
    .createIndex("connection_domains_conn_idx")
    .on("connection_domains")
    .column("connection_id")
    .execute();
  await db.schema.dropTable("organization_domains").execute();
}
