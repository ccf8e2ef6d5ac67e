import { type Kysely, PostgresAdapter, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Ending a Gatehouse session ends what applications hold from it.
 *
 * `provider_records.session_uid`: the oidc-provider session a code or token was issued in (its
 * payload's `sessionUid`), so the grants of an ended session are found even after oidc-provider
 * dropped the session record itself (an application's RP-initiated logout keeps offline_access
 * grants). Rows written before this migration are filled from their payload.
 *
 * `application_sign_ins.logged_out_at`: when the application was sent (queued) its logout token
 * for this sign-in; whichever way the session ended first queues it, every later way finds it
 * set, so an application gets one logout token per ended sign-in. Looked up by `(client_id, sid)`,
 * which is what oidc-provider's own logout knows. An administrator's sign-out reaches the
 * person's sign-ins whose session had already ended (their offline_access grants), by `user_id`.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("provider_records").addColumn("session_uid", "text").execute();
  const fromPayload = isPostgres(db)
    ? sql`payload::json ->> 'sessionUid'`
    : sql`json_extract(payload, '$.sessionUid')`;
  await sql`update provider_records set session_uid = ${fromPayload} where model <> 'Session'`.execute(db);
  await db.schema
    .createIndex("provider_records_session_uid_idx")
    .on("provider_records")
    .column("session_uid")
    .execute();

  await db.schema.alterTable("application_sign_ins").addColumn("logged_out_at", "bigint").execute();
  await db.schema
    .createIndex("application_sign_ins_sid_idx")
    .on("application_sign_ins")
    .columns(["client_id", "sid"])
    .execute();
  // Sign out everywhere and removing a person find the person's earlier sign-ins too.
  await db.schema
    .createIndex("application_sign_ins_user_idx")
    .on("application_sign_ins")
    .column("user_id")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex("application_sign_ins_user_idx").execute();
  await db.schema.dropIndex("application_sign_ins_sid_idx").execute();
  await db.schema.alterTable("application_sign_ins").dropColumn("logged_out_at").execute();
  await db.schema.dropIndex("provider_records_session_uid_idx").execute();
  await db.schema.alterTable("provider_records").dropColumn("session_uid").execute();
}

function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
