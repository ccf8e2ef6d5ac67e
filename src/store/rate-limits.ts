import type { Kysely } from "kysely";
import { prepared } from "./prepared.js";
import type { Database } from "./schema.js";

/**
 * Fixed-window counter kept in the database so that every instance counts the same
 * attempts. Returns the count after this hit and when the window resets.
 */
export async function hitRateLimit(
  db: Kysely<Database>,
  key: string,
  windowMs: number,
  now: number,
): Promise<{ count: number; resetAt: number }> {
  const windowStart = now - (now % windowMs);
  const row = await db
    .insertInto("rate_limits")
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet((eb) => ({
        count: eb
          .case()
          .when("rate_limits.window_start", "=", windowStart)
          .then(eb("rate_limits.count", "+", 1))
          .else(1)
          .end(),
        window_start: windowStart,
      })),
    )
    .returning(["count", "window_start"])
    .executeTakeFirstOrThrow();
  return { count: row.count, resetAt: row.window_start + windowMs };
}

/**
 * Several fixed-window counters hit in one statement (one round trip, one commit): a sign-in's
 * start counts its address against two limits at once. Keys must differ. Returns each key's
 * count after this hit and when its window resets.
 */
export async function hitRateLimits(
  db: Kysely<Database>,
  hits: readonly { key: string; windowMs: number }[],
  now: number,
): Promise<Map<string, { count: number; resetAt: number }>> {
  const windows = new Map(hits.map((h) => [h.key, h.windowMs]));
  let upsert = upsertsBySize.get(hits.length);
  if (!upsert) {
    upsert = rateLimitUpsert(hits.length);
    upsertsBySize.set(hits.length, upsert);
  }
  const args: Record<string, string | number> = {};
  hits.forEach((h, i) => {
    args[`key${i}`] = h.key;
    args[`start${i}`] = now - (now % h.windowMs);
  });
  const { rows } = await upsert(db, args);
  return new Map(
    rows.map((r) => [r.key, { count: r.count, resetAt: r.window_start + (windows.get(r.key) ?? 0) }]),
  );
}

/** The upsert of `size` counters in one statement, its SQL built once (see `prepared`). */
function rateLimitUpsert(size: number) {
  const rows = Array.from({ length: size }, (_, i) => i);
  return prepared(
    rows.flatMap((i) => [`key${i}`, `start${i}`]),
    (db, args: Record<string, string | number>) =>
      db
        .insertInto("rate_limits")
        .values(
          rows.map((i) => ({
            key: args[`key${i}`] as string,
            window_start: args[`start${i}`] as number,
            count: 1,
          })),
        )
        .onConflict((oc) =>
          oc.column("key").doUpdateSet((eb) => ({
            count: eb
              .case()
              .when("rate_limits.window_start", "=", eb.ref("excluded.window_start"))
              .then(eb("rate_limits.count", "+", 1))
              .else(1)
              .end(),
            window_start: eb.ref("excluded.window_start"),
          })),
        )
        .returning(["key", "count", "window_start"]),
  );
}

const upsertsBySize = new Map<number, ReturnType<typeof rateLimitUpsert>>();

export async function peekRateLimit(
  db: Kysely<Database>,
  key: string,
  windowMs: number,
  now: number,
): Promise<number> {
  const windowStart = now - (now % windowMs);
  const row = await db
    .selectFrom("rate_limits")
    .select("count")
    .where("key", "=", key)
    .where("window_start", "=", windowStart)
    .executeTakeFirst();
  return row?.count ?? 0;
}

/**
 * Takes back one hit in the current window: an attempt that turned out legitimate must not
 * count against a limit that is there to slow down guessing.
 */
export async function forgiveRateLimitHit(
  db: Kysely<Database>,
  key: string,
  windowMs: number,
  now: number,
): Promise<void> {
  const windowStart = now - (now % windowMs);
  await db
    .updateTable("rate_limits")
    .set((eb) => ({ count: eb("count", "-", 1) }))
    .where("key", "=", key)
    .where("window_start", "=", windowStart)
    .where("count", ">", 0)
    .execute();
}

export async function clearRateLimit(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom("rate_limits").where("key", "=", key).execute();
}

/** Deletes counters whose window started before `before`; pass at most now minus the longest window. */
export async function purgeRateLimits(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db.deleteFrom("rate_limits").where("window_start", "<", before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Failure records for throttling: `count` consecutive failures, `window_start` holding the
 * last one's time. A record whose last failure is older than `staleAfterMs` starts over.
 * Only verified failures are recorded, never refused attempts.
 */
export async function recordFailure(
  db: Kysely<Database>,
  key: string,
  staleAfterMs: number,
  now: number,
): Promise<number> {
  const row = await db
    .insertInto("rate_limits")
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet((eb) => ({
        count: eb
          .case()
          .when("rate_limits.window_start", ">", now - staleAfterMs)
          .then(eb("rate_limits.count", "+", 1))
          .else(1)
          .end(),
        window_start: now,
      })),
    )
    .returning("count")
    .executeTakeFirstOrThrow();
  return row.count;
}

export async function readFailures(
  db: Kysely<Database>,
  key: string,
  staleAfterMs: number,
  now: number,
): Promise<{ count: number; lastAt: number } | undefined> {
  const row = await db
    .selectFrom("rate_limits")
    .select(["count", "window_start"])
    .where("key", "=", key)
    .where("window_start", ">", now - staleAfterMs)
    .executeTakeFirst();
  return row ? { count: row.count, lastAt: row.window_start } : undefined;
}
