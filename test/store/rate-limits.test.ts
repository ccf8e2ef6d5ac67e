import assert from "node:assert/strict";
import { test } from "node:test";
import {
  clearRateLimit,
  forgiveRateLimitHit,
  hitRateLimit,
  hitRateLimits,
  peekRateLimit,
  purgeRateLimits,
} from "../../src/store/rate-limits.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { minute } from "./fixtures.js";

const windowMs = 15 * minute;
// The start of a window, so that tests can step inside it and across its end.
const windowStart = Date.UTC(2030, 0, 15, 9, 30);

withEachDatabase("store: rate limits", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("hits count up within a window and start again at one in the next", async () => {
    const { db } = database().store;
    const key = "password:account:ada@acme.test";
    assert.deepEqual(await hitRateLimit(db, key, windowMs, windowStart), {
      count: 1,
      resetAt: windowStart + windowMs,
    });
    assert.equal((await hitRateLimit(db, key, windowMs, windowStart + minute)).count, 2);
    assert.equal((await hitRateLimit(db, key, windowMs, windowStart + windowMs - 1)).count, 3);
    assert.deepEqual(await hitRateLimit(db, key, windowMs, windowStart + windowMs), {
      count: 1,
      resetAt: windowStart + 2 * windowMs,
    });
    assert.equal((await hitRateLimit(db, key, windowMs, windowStart + 3 * windowMs + minute)).count, 1);
  });

  test("hitRateLimits counts several keys, each in its own window, in one statement", async () => {
    const { db } = database().store;
    const hits = [
      { key: "short", windowMs: minute },
      { key: "long", windowMs },
    ];
    const first = await hitRateLimits(db, hits, windowStart);
    assert.deepEqual(first.get("short"), { count: 1, resetAt: windowStart + minute });
    assert.deepEqual(first.get("long"), { count: 1, resetAt: windowStart + windowMs });
    await hitRateLimits(db, hits, windowStart + 1000);
    // The short window has turned over; the long one has not.
    const third = await hitRateLimits(db, hits, windowStart + minute);
    assert.deepEqual(third.get("short"), { count: 1, resetAt: windowStart + 2 * minute });
    assert.deepEqual(third.get("long"), { count: 3, resetAt: windowStart + windowMs });
    assert.equal((await hitRateLimit(db, "long", windowMs, windowStart + minute)).count, 4);
  });

  test("each key counts on its own", async () => {
    const { db } = database().store;
    await hitRateLimit(db, "a", windowMs, windowStart);
    await hitRateLimit(db, "a", windowMs, windowStart);
    assert.equal((await hitRateLimit(db, "b", windowMs, windowStart)).count, 1);
  });

  test("twenty concurrent hits are all counted", async () => {
    const { db } = database().store;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        hitRateLimit(db, "password:ip:203.0.113.7", windowMs, windowStart + minute),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.count).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal(await peekRateLimit(db, "password:ip:203.0.113.7", windowMs, windowStart + minute), 20);
  });

  test("peekRateLimit reads the current window's count without adding to it", async () => {
    const { db } = database().store;
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart), 0);
    await hitRateLimit(db, "k", windowMs, windowStart);
    await hitRateLimit(db, "k", windowMs, windowStart);
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart + minute), 2);
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart + minute), 2);
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart + windowMs), 0);
  });

  test("clearRateLimit forgets every hit of the key", async () => {
    const { db } = database().store;
    await hitRateLimit(db, "k", windowMs, windowStart);
    await hitRateLimit(db, "k", windowMs, windowStart);
    await hitRateLimit(db, "other", windowMs, windowStart);
    await clearRateLimit(db, "k");
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart), 0);
    assert.equal((await hitRateLimit(db, "k", windowMs, windowStart)).count, 1);
    assert.equal(await peekRateLimit(db, "other", windowMs, windowStart), 1);
  });

  test("forgiveRateLimitHit takes back one hit of the current window, never below zero", async () => {
    const { db } = database().store;
    await hitRateLimit(db, "k", windowMs, windowStart);
    await hitRateLimit(db, "k", windowMs, windowStart);
    await forgiveRateLimitHit(db, "k", windowMs, windowStart + minute);
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart), 1);
    await forgiveRateLimitHit(db, "k", windowMs, windowStart);
    await forgiveRateLimitHit(db, "k", windowMs, windowStart);
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart), 0);
    assert.equal((await hitRateLimit(db, "k", windowMs, windowStart)).count, 1);
    // A hit from a window that has ended is not taken back from the new one.
    await hitRateLimit(db, "k", windowMs, windowStart + windowMs);
    await forgiveRateLimitHit(db, "k", windowMs, windowStart);
    assert.equal(await peekRateLimit(db, "k", windowMs, windowStart + windowMs), 1);
  });

  test("purgeRateLimits deletes counters of windows that started before the cut-off", async () => {
    const { db } = database().store;
    await hitRateLimit(db, "old", windowMs, windowStart - windowMs);
    await hitRateLimit(db, "current", windowMs, windowStart);
    await hitRateLimit(db, "current", windowMs, windowStart + minute);
    assert.equal(await purgeRateLimits(db, windowStart), 1);
    const left = await db.selectFrom("rate_limits").selectAll().execute();
    assert.deepEqual(left, [{ key: "current", window_start: windowStart, count: 2 }]);
    assert.equal(await purgeRateLimits(db, windowStart), 0);
  });
});
