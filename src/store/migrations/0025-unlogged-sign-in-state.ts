import { type Kysely, PostgresAdapter, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * What lives only minutes skips PostgreSQL's write-ahead log: the per-address counts
 * (`rate_limits`, a minute or a sign-in's ten) and the sign-ins in progress
 * (`login_transactions`, ten minutes). A commit that wrote only unlogged rows does not wait for
 * a WAL flush, so a sign-in makes one flush (its user, audit record and session) instead of
 * four (bench/README.md, "Commits on PostgreSQL").
 *
 * What a crash costs: PostgreSQL empties unlogged tables when it recovers from a crash (not on
 * a clean restart), and a standby has no copy of them. Sign-ins in progress then fail with an
 * unknown state and are started again, and the per-address counts begin again. A state can still
 * be used only once: an emptied table knows no state at all. Everything a user keeps (users,
 * sessions, audit events, SAML assertion ids, idempotency keys) stays logged.
 *
 * SQLite has no such setting: its commits do not wait for a flush in WAL mode with
 * `synchronous=NORMAL` anyway.
 */
const TABLES = ["rate_limits", "login_transactions"] as const;

export async function up(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  for (const table of TABLES) await sql`alter table ${sql.table(table)} set unlogged`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  for (const table of TABLES) await sql`alter table ${sql.table(table)} set logged`.execute(db);
}

function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
