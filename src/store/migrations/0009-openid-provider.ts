import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Gatehouse as an OpenID Provider: the applications that sign in through it, its signing keys,
 * oidc-provider's own records (codes, tokens, sessions, interactions, grants), which Gatehouse
 * session each application sign-in came from, and the back-channel logout outbox.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("applications")
    .addColumn("client_id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("client_secret_sealed", "text")
    .addColumn("token_endpoint_auth_method", "text", (c) => c.notNull())
    .addColumn("redirect_uris", "text", (c) => c.notNull())
    .addColumn("post_logout_redirect_uris", "text", (c) => c.notNull())
    .addColumn("backchannel_logout_uri", "text")
    .addColumn("jwks_uri", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("provider_signing_keys")
    .addColumn("kid", "text", (c) => c.primaryKey())
    .addColumn("alg", "text", (c) => c.notNull())
    .addColumn("private_jwk_sealed", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("signs_from", "bigint", (c) => c.notNull())
    .addColumn("retired_at", "bigint")
    .execute();

  await db.schema
    .createTable("provider_records")
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("grant_id", "text")
    .addColumn("uid", "text")
    .addColumn("user_code", "text")
    .addColumn("expires_at", "bigint")
    .addColumn("consumed_at", "bigint")
    .addPrimaryKeyConstraint("provider_records_pk", ["model", "id"])
    .execute();
  await db.schema
    .createIndex("provider_records_grant_idx")
    .on("provider_records")
    .column("grant_id")
    .execute();
  await db.schema
    .createIndex("provider_records_uid_idx")
    .on("provider_records")
    .columns(["model", "uid"])
    .execute();
  await db.schema
    .createIndex("provider_records_user_code_idx")
    .on("provider_records")
    .columns(["model", "user_code"])
    .execute();
  await db.schema
    .createIndex("provider_records_expiry_idx")
    .on("provider_records")
    .column("expires_at")
    .execute();

  await db.schema
    .createTable("application_sign_ins")
    .addColumn("provider_session_uid", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("sid", "text", (c) => c.notNull())
    .addColumn("session_id_hash", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("organization_id", "text")
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("connection_id", "text")
    .addColumn("auth_time", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("application_sign_ins_pk", ["provider_session_uid", "client_id"])
    .execute();
  await db.schema
    .createIndex("application_sign_ins_session_idx")
    .on("application_sign_ins")
    .column("session_id_hash")
    .execute();

  await db.schema
    .createTable("backchannel_logouts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("sub", "text", (c) => c.notNull())
    .addColumn("sid", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("last_error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("backchannel_logouts_due_idx")
    .on("backchannel_logouts")
    .column("next_attempt_at")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of [
    "backchannel_logouts",
    "application_sign_ins",
    "provider_records",
    "provider_signing_keys",
    "applications",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
