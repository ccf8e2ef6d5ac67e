import assert from "node:assert/strict";
import { test } from "node:test";
import { SessionCache } from "../../src/session/cache.js";
import type { SessionChangeFeed } from "../../src/store/session-changes.js";
import type { ActiveSession } from "../../src/store/sessions.js";

const NOW = Date.UTC(2026, 0, 1);

const liveFeed: SessionChangeFeed = {
  live: () => true,
  subscribe: () => () => undefined,
  close: async () => undefined,
};

function session(idHash: string): ActiveSession {
  return {
    idHash,
    userId: `user-${idHash}`,
    email: `${idHash}@acme.test`,
    name: null,
    organizationId: "org",
    organizationSlug: "acme",
    organizationName: "Acme",
    role: "member",
    method: "sso",
    connectionId: null,
    connectionName: null,
    createdAt: NOW,
    authenticatedAfresh: false,
    expiresAt: NOW + 3_600_000,
    lastSeenAt: NOW,
  };
}

function filled(capacity: number, ids: string[]): SessionCache {
  const cache = new SessionCache(capacity, () => liveFeed);
  for (const id of ids) cache.put(session(id), cache.ticket());
  return cache;
}

function kept(cache: SessionCache, ids: string[]): string[] {
  return ids.filter((id) => cache.get(id, NOW) !== undefined);
}

test("a full cache evicts its least recently used entry", () => {
  const cache = filled(4, ["a", "b", "c", "d"]);
  assert.ok(cache.get("a", NOW), "a, the oldest, is used again");
  cache.put(session("e"), cache.ticket());
  assert.equal(cache.size, 4);
  assert.deepEqual(kept(cache, ["a", "b", "c", "d", "e"]), ["a", "c", "d", "e"]);
});

test("a hit on one of the newer half stays in place; the oldest still goes first", () => {
  const cache = filled(4, ["a", "b", "c", "d"]);
  // d and c are among the two newest: using them moves nothing.
  assert.ok(cache.get("d", NOW));
  assert.ok(cache.get("c", NOW));
  cache.put(session("e"), cache.ticket());
  cache.put(session("f"), cache.ticket());
  assert.deepEqual(kept(cache, ["a", "b", "c", "d", "e", "f"]), ["c", "d", "e", "f"]);
});

test("capacity is never exceeded, however the entries are used", () => {
  const cache = new SessionCache(100, () => liveFeed);
  for (let i = 0; i < 1000; i++) {
    cache.put(session(`s${i}`), cache.ticket());
    cache.get(`s${i % 7}`, NOW);
    cache.get(`s${Math.max(0, i - 60)}`, NOW);
    assert.ok(cache.size <= 100);
  }
  // Used on every round, s0 to s6 survive 900 insertions beyond the capacity.
  assert.deepEqual(kept(cache, ["s0", "s1", "s2", "s3", "s4", "s5", "s6"]).length, 7);
});

test("an expired entry is refused and dropped", () => {
  const cache = filled(4, ["a"]);
  assert.equal(cache.get("a", NOW + 3_600_000), undefined);
  assert.equal(cache.size, 0);
});
