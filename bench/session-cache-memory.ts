import { randomBytes, randomUUID } from "node:crypto";
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
 *   node --expose-gc --import tsx bench/session-cache-memory.ts --sessions 100000
 */
const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "100000" },
    organizations: { type: "string", default: "50" },
  },
});
const sessions = Number(values.sessions);
const organizations = Number(values.organizations);
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
    expiresAt: now + 8 * 3600_000,
    lastSeenAt: now,
  };
  cache.put(session, cache.ticket());
}
const after = heapUsed();
process.stdout.write(
  `${JSON.stringify({ sessions, entries: cache.size, heapBytes: after - before, bytesPerSession: (after - before) / sessions })}\n`,
);
