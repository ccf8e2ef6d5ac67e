import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * A session's ID token (kept for RP-initiated logout's `id_token_hint`) is sealed with the secret
 * box, bound to its session, like every other secret at rest. Migrations have no key, so the
 * ID tokens of sessions from before this one are sealed into the new column at start-up
 * (`sealLegacyIdTokens`, right after migrating), which empties the old column; nothing writes it
 * since.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("sessions").addColumn("id_token_sealed", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("sessions").dropColumn("id_token_sealed").execute();
}
