import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { Dialect } from "../../src/store/database.js";
import { createSchema, dropSchema, schemaUrl } from "../../test/support/postgres-schemas.js";

/**
 * A database for one benchmark run: a SQLite file in a temporary folder, or a fresh schema on
 * the PostgreSQL server (as test/support/databases.ts makes them), removed afterwards.
 */
export interface BenchDatabase {
  dialect: Dialect;
  /** The URL Gatehouse is started with; on PostgreSQL its connections carry `applicationName`. */
  gatehouseUrl: string;
  /** The URL the benchmark itself uses for set-up. */
  setupUrl: string;
  /** PostgreSQL backends serving Gatehouse, for their CPU; empty on SQLite. */
  gatehouseBackendPids(): Promise<number[]>;
  /**
   * PostgreSQL: the server's count of WAL flushes so far (`pg_stat_wal.wal_sync`, every
   * database and process: the benchmark is the only writer while it runs); undefined on SQLite.
   */
  walFlushes(): Promise<number | undefined>;
  drop(): Promise<void>;
}

export function postgresServerUrl(): string | undefined {
  return process.env.GATEHOUSE_BENCH_POSTGRES_URL || process.env.GATEHOUSE_TEST_POSTGRES_URL || undefined;
}

export function createSqlite(): BenchDatabase {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-bench-"));
  const url = `sqlite:${path.join(dir, "bench.db")}`;
  return {
    dialect: "sqlite",
    gatehouseUrl: url,
    setupUrl: url,
    gatehouseBackendPids: async () => [],
    walFlushes: async () => undefined,
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createPostgres(serverUrl: string): Promise<BenchDatabase> {
  const schema = `gh_bench_${randomBytes(6).toString("hex")}`;
  const applicationName = `${schema}_gatehouse`;
  await createSchema(serverUrl, schema);
  let dropped = false;
  return {
    dialect: "postgres",
    gatehouseUrl: schemaUrl(serverUrl, schema, applicationName),
    setupUrl: schemaUrl(serverUrl, schema, `${schema}_setup`),
    async gatehouseBackendPids() {
      const { rows } = await query<{ pid: number }>(
        serverUrl,
        "select pid from pg_stat_activity where application_name = $1",
        [applicationName],
      );
      return rows.map((r) => r.pid);
    },
    async walFlushes() {
      const { rows } = await query<{ flushes: string }>(
        serverUrl,
        "select wal_sync as flushes from pg_stat_wal",
      );
      return rows[0] ? Number(rows[0].flushes) : undefined;
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await dropSchema(serverUrl, schema);
    },
  };
}

async function query<Row extends pg.QueryResultRow>(
  serverUrl: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await client.query<Row>(text, values);
  } finally {
    await client.end();
  }
}
