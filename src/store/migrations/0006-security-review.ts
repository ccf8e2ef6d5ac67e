import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Bulk revocation ends every session of a connection or an organization in one statement; the
 * indexes keep that from scanning the whole table (and PostgreSQL's `on delete set null` of a
 * deleted connection from doing the same). `last_seen_at` carries the idle timeout: existing
 * sessions start as seen when they were created.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createIndex("sessions_connection_idx").on("sessions").column("connection_id").execute();
  await db.schema.createIndex("sessions_organization_idx").on("sessions").column("organization_id").execute();
  await db.schema.alterTable("sessions").addColumn("last_seen_at", "bigint").execute();
  await db
    .updateTable("sessions")
    .set((eb) => ({ last_seen_at: eb.ref("created_at") }))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("sessions").dropColumn("last_seen_at").execute();
  await db.schema.dropIndex("sessions_organization_idx").execute();
  await db.schema.dropIndex("sessions_connection_idx").execute();
}
