import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Per-connection settings for real providers' quirks: which claim holds the email (Entra ID
 * often sends `preferred_username` or `upn`), the allowed clock skew, the key pair for
 * `private_key_jwt`, and the issuer the ID tokens carry when the discovery document publishes
 * a template such as Entra ID's `https://login.microsoftonline.com/{tenantid}/v2.0`.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable("connections")
    .addColumn("email_claim", "text", (c) => c.notNull().defaultTo("email"))
    .execute();
  await db.schema
    .alterTable("connections")
    .addColumn("clock_skew_seconds", "integer", (c) => c.notNull().defaultTo(60))
    .execute();
  await db.schema.alterTable("connections").addColumn("signing_key_sealed", "text").execute();
  await db.schema.alterTable("connections").addColumn("signing_kid", "text").execute();
  await db.schema.alterTable("connections").addColumn("id_token_issuer", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const column of [
    "id_token_issuer",
    "signing_kid",
    "signing_key_sealed",
    "clock_skew_seconds",
    "email_claim",
  ]) {
    await db.schema.alterTable("connections").dropColumn(column).execute();
  }
}
