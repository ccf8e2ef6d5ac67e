import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * `saml_reserved_connection_ids`: the id an organization's next SAML connection will have. Its
 * ACS URL, SP Entity ID and metadata URL derive from it and go into the IdP before the
 * connection exists, so the Setup page (and the API) show the same id on every load, to every
 * admin, until Create uses it. One per organization (the primary key), gone with it (cascade);
 * the unique id means no two organizations are ever handed the same one.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("saml_reserved_connection_ids")
    .addColumn("organization_id", "text", (c) =>
      c.primaryKey().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("connection_id", "text", (c) => c.notNull().unique())
    .addColumn("reserved_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("saml_reserved_connection_ids").execute();
}
