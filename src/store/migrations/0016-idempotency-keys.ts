import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * `Idempotency-Key` on creates: the first answer to a (caller, key), kept 24 hours so that a
 * retried create gets it again. The answer can hold a secret shown once (a new API key, an
 * application's client secret), so it is sealed like every other secret at rest. A row without
 * a status is a request still running. Replaces the unused table of the same name from 0007,
 * which kept answers in plain text.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.dropTable("idempotency_keys").ifExists().execute();
  await db.schema
    .createTable("idempotency_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("caller", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("request_hash", "text", (c) => c.notNull())
    .addColumn("status_code", "integer")
    .addColumn("response_sealed", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("idempotency_keys_caller_key_uq", ["caller", "key"])
    .execute();
  await db.schema
    .createIndex("idempotency_keys_expires_idx")
    .on("idempotency_keys")
    .column("expires_at")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("idempotency_keys").execute();
  await db.schema
    .createTable("idempotency_keys")
    .addColumn("caller", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("request_hash", "text", (c) => c.notNull())
    .addColumn("status_code", "integer", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["caller", "key"])
    .execute();
  await db.schema
    .createIndex("idempotency_keys_created_idx")
    .on("idempotency_keys")
    .column("created_at")
    .execute();
}
