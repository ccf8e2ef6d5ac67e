import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { SessionCache } from "../src/session/cache.js";
import type { ActiveSession } from "../src/store/sessions.js";

/**
 * The session cache's own memory: the heap it holds for N sessions, measured after full
 * collections (run with --expose-gc). The RSS of a running server also holds the heap room V8
 * keeps between collections, which moves by tens of MiB from one reading to the next; this
 * does not. Entries are built the way a database read builds them: fresh strings per row, the
 * organization's and connection's names repeated across rows. Prints one JSON line.
 *
 * With `--lookups N`, then N checks of random cached sessions, each by a key string of its own
 * (as every request hashes its cookie anew), with the garbage collections they cause: a cache
 * that keeps what a request brought makes each minor collection copy and promote it.
 *
 *   node --expose-gc --import tsx bench/session-cache-memory.ts --sessions 100000 [--lookups 1000000]
 */
const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "100000" },
    organizations: { type: "string", default: "50" },
    lookups: { type: "string", default: "0" },
  },
});
const sessions = Number(values.sessions);
const organizations = Number(values.organizations);
const lookups = Number(values.lookups);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const alwaysLive = { live: () => true, subscribe: () => () => undefined, close: async () => undefined };
// A flat string of its own, as a driver's row gives (a template or randomUUID() makes a rope).
const fresh = (s: string) => Buffer.from(s).toString();

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

const before = heapUsed();
const cache = new SessionCache(sessions, () => alwaysLive);
const keys: string[] = [];
const now = Date.now();
for (let i = 0; i < sessions; i++) {
  const org = i % organizations;
  const session: ActiveSession = {
    idHash: randomBytes(32).toString("base64url"),
    userId: fresh(randomUUID()),
    email: fresh(`user${i}@org${org}.example`),
    name: fresh(`User Number ${i}`),
    givenName: fresh("User"),
    familyName: fresh(`Number ${i}`),
    organizationId: fresh(`00000000-0000-4000-8000-${String(org).padStart(12, "0")}`),
    organizationSlug: fresh(`org-${org}`),
    organizationName: fresh(`Organization ${org}`),
    role: "member",
    method: "sso",
    connectionId: fresh(`00000000-0000-4000-9000-${String(org).padStart(12, "0")}`),
    connectionName: fresh(`org-${org}-okta`),
    createdAt: now,
    authenticatedAfresh: false,
    expiresAt: now + 8 * 3600_000,
    lastSeenAt: now,
  };
  cache.put(session, cache.ticket());
  keys.push(session.idHash);
}
const after = heapUsed();
const lookupReport = lookups > 0 ? await lookUp(lookups) : {};
process.stdout.write(
  `${JSON.stringify({ sessions, entries: cache.size, heapBytes: after - before, bytesPerSession: (after - before) / sessions, ...lookupReport })}\n`,
);

/** `count` cache hits with fresh key strings, and the collections that ran meanwhile. */
async function lookUp(count: number) {
  const collections: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => collections.push(...list.getEntries()));
  observer.observe({ entryTypes: ["gc"] });
  const began = performance.now();
  let hits = 0;
  for (let i = 0; i < count; i++) {
    if (cache.get(fresh(keys[randomInt(keys.length)] as string), now)) hits++;
  }
  const seconds = (performance.now() - began) / 1000;
  // Entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const kind = (e: PerformanceEntry) =>
    ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
  const minor = collections
    .filter((e) => kind(e) === constants.NODE_PERFORMANCE_GC_MINOR)
    .map((e) => e.duration);
  minor.sort((a, b) => a - b);
  return {
    lookups: count,
    hits,
    lookupSeconds: seconds,
    minorCollections: minor.length,
    minorMsTotal: minor.reduce((a, b) => a + b, 0),
    minorMsP50: minor[Math.floor(minor.length / 2)] ?? 0,
    minorMsMax: minor.at(-1) ?? 0,
    majorCollections: collections.filter((e) => kind(e) === constants.NODE_PERFORMANCE_GC_MAJOR).length,
  };
}
