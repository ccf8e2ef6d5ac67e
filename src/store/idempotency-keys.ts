import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** What a kept answer is sealed to: its row. */
export const idempotencyContext = (id: string) => `idempotency:${id}`;

export interface IdempotencyRecord {
  id: string;
  requestHash: string;
  statusCode: number | null;
  responseSealed: string | null;
  createdAt: number;
}

/**
 * Claims (caller, key) for a request that is about to run. Returns undefined when claimed, or the
 * record already there (a finished answer, or a request still running). Expired records give way.
 */
export async function claimIdempotencyKey(
  db: Kysely<Database>,
  row: { id: string; caller: string; key: string; requestHash: string },
  now: number,
  ttlMs: number,
  abandonedAfterMs: number,
): Promise<IdempotencyRecord | undefined> {
  await db
    .deleteFrom("idempotency_keys")
    .where("caller", "=", row.caller)
    .where("key", "=", row.key)
    .where((eb) =>
      eb.or([
        eb("expires_at", "<=", now),
        // A first request that never finished (its connection or its instance died).
        eb.and([eb("status_code", "is", null), eb("created_at", "<=", now - abandonedAfterMs)]),
      ]),
    )
    .execute();
  const inserted = await db
    .insertInto("idempotency_keys")
    .values({
      id: row.id,
      caller: row.caller,
      key: row.key,
      request_hash: row.requestHash,
      status_code: null,
      response_sealed: null,
      created_at: now,
      expires_at: now + ttlMs,
    })
    .onConflict((oc) => oc.columns(["caller", "key"]).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return undefined;
  const existing = await db
    .selectFrom("idempotency_keys")
    .select(["id", "request_hash", "status_code", "response_sealed", "created_at"])
    .where("caller", "=", row.caller)
    .where("key", "=", row.key)
    .executeTakeFirst();
  // Gone between the two statements (expired and purged): claim again.
  if (!existing) return claimIdempotencyKey(db, row, now, ttlMs, abandonedAfterMs);
  return {
    id: existing.id,
    requestHash: existing.request_hash,
    statusCode: existing.status_code,
    responseSealed: existing.response_sealed,
    createdAt: existing.created_at,
  };
}

/** Keeps the answer of the request that claimed the record. */
export async function completeIdempotencyKey(
  db: Kysely<Database>,
  id: string,
  statusCode: number,
  responseSealed: string,
): Promise<void> {
  await db
    .updateTable("idempotency_keys")
    .set({ status_code: statusCode, response_sealed: responseSealed })
    .where("id", "=", id)
    .execute();
}

/** Lets the key be used again: the request failed, so a retry should run, not replay. */
export async function releaseIdempotencyKey(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom("idempotency_keys").where("id", "=", id).where("status_code", "is", null).execute();
}

export async function purgeIdempotencyKeys(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom("idempotency_keys").where("expires_at", "<=", now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
