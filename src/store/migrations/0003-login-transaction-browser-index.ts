import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Every sign-in start counts the browser's open login transactions; without this index that
 * count scans the whole table, which grows with traffic until the purge.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createIndex("login_transactions_browser_idx")
    .on("login_transactions")
    .columns(["browser_hash", "expires_at"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex("login_transactions_browser_idx").execute();
}
