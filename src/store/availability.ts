/**
 * Whether a database error means "not reachable right now" (a restart, a failover, a full
 * pool) rather than a bug: those answer 503 with a page that says to retry, not a 500.
 */
const UNAVAILABLE_CODES = new Set([
  // PostgreSQL: class 08 connection exceptions, and the server shutting down or starting up.
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "57P01",
  "57P02",
  "57P03",
  // Node sockets.
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  // SQLite: another writer held the lock past busy_timeout.
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) return true;
    const message = e instanceof Error ? e.message : "";
    // pg reports a dropped or refused connection by message only.
    if (
      /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|not queryable/.test(
        message,
      )
    )
      return true;
  }
  return false;
}

/** A unique constraint refused a row: another request inserted the same thing first. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
