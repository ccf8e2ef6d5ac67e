import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * The tenants a multi-tenant issuer (Entra ID's `/common`, `/organizations`) may sign in from,
 * space-separated; empty for single-tenant issuers. A template connection without any signs no
 * one in (src/domain/tenant-claims.ts).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable("connections")
    .addColumn("allowed_tenants", "text", (c) => c.notNull().defaultTo(""))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("connections").dropColumn("allowed_tenants").execute();
}
