import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Test sign-ins: a test holds the connection settings it runs with (the unsaved form's values,
 * the client secret sealed, for an unsaved connection; none for a saved one), the admin
 * session it belongs to, and once the provider sent the browser back, the checks' result.
 * A login transaction says whether it is a sign-in or a test, and which test.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("connection_tests")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) =>
      c.notNull().references("organizations.id").onDelete("cascade"),
    )
    // A saved connection's test; null for the Setup form's unsaved values.
    .addColumn("connection_id", "text", (c) => c.references("connections.id").onDelete("cascade"))
    .addColumn("actor_user_id", "text")
    // The admin session the test belongs to (hash of its id); null until an API key's test is opened.
    .addColumn("session_hash", "text")
    // JSON of the unsaved settings, without the secret; null once finished or for a saved connection.
    .addColumn("settings", "text")
    .addColumn("client_secret_sealed", "text")
    // JSON of the checks and claims; never a token.
    .addColumn("result", "text")
    .addColumn("outcome", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema
    .createIndex("connection_tests_expires_idx")
    .on("connection_tests")
    .column("expires_at")
    .execute();
  await db.schema
    .alterTable("login_transactions")
    .addColumn("purpose", "text", (c) => c.notNull().defaultTo("sign_in"))
    .execute();
  await db.schema.alterTable("login_transactions").addColumn("connection_test_id", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("login_transactions").dropColumn("connection_test_id").execute();
  await db.schema.alterTable("login_transactions").dropColumn("purpose").execute();
  await db.schema.dropTable("connection_tests").execute();
}
