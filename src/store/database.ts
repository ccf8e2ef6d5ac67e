import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";
import {
  Kysely,
  type KyselyConfig,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
} from "kysely";
import pg from "pg";
import * as initial from "./migrations/0001-initial.js";
import * as connectionSettings from "./migrations/0002-connection-settings.js";
import * as loginTransactionBrowserIndex from "./migrations/0003-login-transaction-browser-index.js";
import * as domains from "./migrations/0005-domains.js";
import * as securityReview from "./migrations/0006-security-review.js";
import * as operations from "./migrations/0007-operations.js";
import * as sessionPerformance from "./migrations/0008-session-performance.js";
import * as openidProvider from "./migrations/0009-openid-provider.js";
import * as connectionTests from "./migrations/0011-connection-tests.js";
import * as tenantAllowlist from "./migrations/0013-tenant-allowlist.js";
import * as idempotencyKeys from "./migrations/0016-idempotency-keys.js";
import * as performanceIndexes from "./migrations/0017-performance.js";
import * as connectionRoles from "./migrations/0018-connection-roles.js";
import * as sessionHardening from "./migrations/0019-session-hardening.js";
import * as protocolConnections from "./migrations/0020-protocol-connections.js";
import * as signInTransactions from "./migrations/0022-sign-in-transactions.js";
import * as samlConnections from "./migrations/0023-saml-connections.js";
import * as membershipEmails from "./migrations/0024-membership-emails.js";
import * as unloggedSignInState from "./migrations/0025-unlogged-sign-in-state.js";
import * as samlSloResponseUrl from "./migrations/0026-saml-slo-response-url.js";
import * as loginHint from "./migrations/0027-login-hint.js";
import * as samlReservedConnectionIds from "./migrations/0028-saml-reserved-connection-ids.js";
import * as applicationGrantRevocation from "./migrations/0029-application-grant-revocation.js";
import * as nativeApplications from "./migrations/0030-native-applications.js";
import * as freshSignIn from "./migrations/0031-fresh-sign-in.js";
import type { Database } from "./schema.js";
import { postgresSessionChanges, type SessionChangeFeed, sqliteSessionChanges } from "./session-changes.js";
import { type CheckpointOptions, checkpointInWorker } from "./sqlite-checkpoints.js";

export type Dialect = "sqlite" | "postgres";

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * Every committed change to what a session check returns, started on first use (after the
   * migrations: it needs their triggers) and stopped by `close`.
   */
  sessionChanges(): SessionChangeFeed;
  close(): Promise<void>;
}

// Listed in code rather than read from a folder, so the same list runs from src/ and dist/.
const migrations: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-connection-settings": connectionSettings,
  "0003-login-transaction-browser-index": loginTransactionBrowserIndex,
  "0005-domains": domains,
  "0006-security-review": securityReview,
  "0007-operations": operations,
  "0008-session-performance": sessionPerformance,
  "0009-openid-provider": openidProvider,
  "0011-connection-tests": connectionTests,
  "0013-tenant-allowlist": tenantAllowlist,
  "0016-idempotency-keys": idempotencyKeys,
  "0017-performance": performanceIndexes,
  "0018-connection-roles": connectionRoles,
  "0019-session-hardening": sessionHardening,
  "0020-protocol-connections": protocolConnections,
  "0022-sign-in-transactions": signInTransactions,
  "0023-saml-connections": samlConnections,
  "0024-membership-emails": membershipEmails,
  "0025-unlogged-sign-in-state": unloggedSignInState,
  "0026-saml-slo-response-url": samlSloResponseUrl,
  "0027-login-hint": loginHint,
  "0028-saml-reserved-connection-ids": samlReservedConnectionIds,
  "0029-application-grant-revocation": applicationGrantRevocation,
  "0030-native-applications": nativeApplications,
  "0031-fresh-sign-in": freshSignIn,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

// PostgreSQL returns int8 as a string to protect precision; our int8 columns hold epoch
// milliseconds and counts, far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface OpenOptions {
  /** PostgreSQL pool size per instance. */
  poolSize?: number;
  /** Told when an idle PostgreSQL connection fails; the pool has already dropped it. */
  onIdleError?: (error: Error) => void;
  /** Told when PostgreSQL's session-change notifications are interrupted. */
  onChangeFeedError?: (error: Error) => void;
  /**
   * SQLite: WAL checkpoints on a worker thread rather than inside a request's commit (servers);
   * the object form sets its pace (tests).
   */
  checkpointInBackground?: boolean | Pick<CheckpointOptions, "intervalMs" | "restartFrames">;
  /** SQLite: told when a background checkpoint fails or its worker is gone. */
  onCheckpointError?: CheckpointOptions["onError"];
  /** Told of every statement sent to the database (its SQL, without values): for counting. */
  onStatement?: (sql: string) => void;
  /** First wait before the notification connection reconnects (doubling up to 0.5 s). */
  changeFeedReconnectDelayMs?: number;
}

export function openStore(databaseUrl: string, options: OpenOptions = {}): Store {
  if (databaseUrl.startsWith("sqlite:")) {
    const file = databaseUrl.slice("sqlite:".length);
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("synchronous = NORMAL");
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
      ...statementLog(options),
    });
    let changes: SessionChangeFeed | undefined;
    const checkpoints =
      options.checkpointInBackground && file !== ":memory:" && file !== ""
        ? checkpointInWorker(sqlite, file, {
            ...(typeof options.checkpointInBackground === "object" ? options.checkpointInBackground : {}),
            holdStatements: (during) => db.connection().execute(() => during()),
            ...(options.onCheckpointError ? { onError: options.onCheckpointError } : {}),
          })
        : undefined;
    return {
      db,
      dialect: "sqlite",
      sessionChanges: () => {
        changes ??= sqliteSessionChanges(sqlite);
        return changes;
      },
      async close() {
        await checkpoints?.stop();
        await db.destroy();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  let changes: SessionChangeFeed | undefined;
  // Idle connections drop when the database restarts or a proxy times them out. The pool
  // discards them and connects again on the next query, but it reports each loss as an
  // "error" event, which without a listener is an uncaught exception that ends the process.
  pool.on("error", (error) => options.onIdleError?.(error));
  // pg-pool listens for errors only on idle clients. A client checked out when the server
  // goes away (a restart sends 57P01 to every backend) would emit "error" to nobody and end
  // the process; its next query then fails and the request answers 503.
  pool.on("connect", (client) => {
    client.on("error", (error) => options.onIdleError?.(error));
  });
  pool.on("connect", namePreparedStatements);
  // A new pool connection after a restart means the database is back: the notification
  // connection need not wait out its backoff, during which the session cache is not trusted.
  pool.on("connect", () => changes?.wake?.());
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...statementLog(options) });
  return {
    db,
    dialect: "postgres",
    sessionChanges: () => {
      changes ??= postgresSessionChanges(databaseUrl, {
        ...(options.onChangeFeedError ? { onError: options.onChangeFeedError } : {}),
        ...(options.changeFeedReconnectDelayMs
          ? { reconnectDelayMs: options.changeFeedReconnectDelayMs }
          : {}),
      });
      return changes;
    },
    async close() {
      await changes?.close();
      await db.destroy();
    },
  };
}

function statementLog(options: OpenOptions): Pick<KyselyConfig, "log"> {
  const { onStatement } = options;
  if (!onStatement) return {};
  return {
    log: (event) => {
      if (event.level === "query") onStatement(event.query.sql);
    },
  };
}

const NAMEABLE = /^\s*(select|insert|update|delete|with)\b/i;
const statementNames = new Map<string, string>();

/**
 * pg sends every query as an unnamed statement, which PostgreSQL parses and plans anew each
 * time; for Gatehouse's small, repeated queries planning costs more than running them. Each
 * connection therefore names its data statements (by a hash of their SQL), so PostgreSQL plans
 * each once per connection. A statement whose cached plan a concurrent migration invalidated
 * ("cached plan must not change result type") is run again under a fresh name.
 */
function namePreparedStatements(client: pg.PoolClient): void {
  const original = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
  let generation = 0;
  const named = (text: string, values: unknown[]): pg.QueryConfig => {
    let name = statementNames.get(text);
    if (!name) {
      name = `gh_${createHash("sha256").update(text).digest("base64url").slice(0, 22)}`;
      if (statementNames.size < 2000) statementNames.set(text, name);
    }
    return { name: generation ? `${name}_${generation}` : name, text, values };
  };
  (client as unknown as { query: (...args: unknown[]) => Promise<pg.QueryResult> }).query = (...args) => {
    const [text, values] = args;
    if (typeof text !== "string" || !Array.isArray(values) || !NAMEABLE.test(text)) return original(...args);
    return original(named(text, values)).catch((error: { code?: string }) => {
      if (error.code !== "0A000") throw error;
      generation++;
      return original(named(text, values));
    });
  };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing costs more than running Gatehouse's small
 * indexed queries. Statements are cached by their SQL text (the parameters are bound per run),
 * up to a bound, oldest first out. Safe because Gatehouse never streams a statement's rows:
 * each run finishes before the statement is used again.
 */
function withStatementCache(sqlite: SqliteDatabase.Database) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) {
          const oldest = statements.keys().next().value;
          if (oldest !== undefined) statements.delete(oldest);
        }
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

export interface MigrationReport {
  applied: string[];
}

/** Brings the schema up to date. Kysely's migrator holds a lock, so two instances can start at once. */
export async function migrateToLatest(store: Store): Promise<MigrationReport> {
  return migrate(store, undefined);
}

/** Brings the schema up to `name` and no further: the upgrade tests start from an older version. */
export async function migrateUpTo(store: Store, name: string): Promise<MigrationReport> {
  return migrate(store, name);
}

async function migrate(store: Store, target: string | undefined): Promise<MigrationReport> {
  const schema = await migrationTableSchema(store);
  const migrator = new Migrator({
    db: store.db,
    provider,
    // Each issue owns a numbered migration and they land in any order: a database that already
    // ran 0006 still takes 0004 when it arrives.
    allowUnorderedMigrations: true,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } =
    target === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(target);
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(
      `migration ${failed?.migrationName ?? "?"} failed: ${String((error as Error).message ?? error)}`,
      {
        cause: error,
      },
    );
  }
  return { applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName) };
}

/**
 * On PostgreSQL, the schema Gatehouse lives in (the first of `search_path`). Kysely looks for its
 * bookkeeping tables in every schema of the database but creates and reads them through
 * `search_path`: another schema holding a `kysely_migration` table (a second Gatehouse, another
 * application) would make it skip creating ours and then fail to read it. Naming the schema
 * keeps the lookup and the use in the same place.
 */
async function migrationTableSchema(store: Store): Promise<string | undefined> {
  if (store.dialect !== "postgres") return undefined;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(store.db);
  return rows[0]?.schema ?? undefined;
}

/** Migrations this code knows that the database has not run yet (empty when up to date). */
export async function pendingMigrations(store: Store): Promise<string[]> {
  const schema = await migrationTableSchema(store);
  const migrator = new Migrator({
    db: store.db,
    provider,
    allowUnorderedMigrations: true,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

export async function pingDatabase(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}
