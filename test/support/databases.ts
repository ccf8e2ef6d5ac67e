import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, afterEach, beforeEach, describe } from "node:test";
import { createKeyFileForNewDatabase } from "../../src/crypto/secret-key.js";
import { type Dialect, migrateToLatest, openStore, type Store } from "../../src/store/database.js";
import { createSchema, dropSchema, schemaUrl } from "./postgres-schemas.js";

/** One database for one test: its own SQLite file or its own PostgreSQL schema. */
export interface TestDatabase {
  dialect: Dialect;
  /** A `GATEHOUSE_DATABASE_URL` that opens this database and nothing else. */
  url: string;
  /** Opened, and migrated unless `create({ migrate: false })`. */
  store: Store;
  /** What `startGatehouse` needs besides the URL (PostgreSQL requires a shared secret key). */
  env: Record<string, string>;
  /** Closes the store and removes the file or schema; safe to call twice. */
  drop(): Promise<void>;
}

export interface CreateOptions {
  /** Leave the schema empty, for tests of the migrations themselves. */
  migrate?: boolean;
}

export interface TestDialect {
  name: Dialect;
  create(options?: CreateOptions): Promise<TestDatabase>;
}

/** The variable CI sets to run every storage and app test against PostgreSQL as well. */
export const postgresUrlVariable = "GATEHOUSE_TEST_POSTGRES_URL";

/** SQLite always; PostgreSQL too when `GATEHOUSE_TEST_POSTGRES_URL` names a server. */
export function testDatabases(): TestDialect[] {
  const dialects: TestDialect[] = [{ name: "sqlite", create: createSqlite }];
  const postgresUrl = process.env[postgresUrlVariable];
  if (postgresUrl) {
    dialects.push({ name: "postgres", create: (options) => createPostgres(postgresUrl, options) });
  }
  return dialects;
}

/**
 * Registers `describe("<name> [<dialect>]")` once per dialect. Databases made through the
 * dialect handed to `fn` are dropped when the block ends if a test left one behind.
 */
export function withEachDatabase(name: string, fn: (dialect: TestDialect) => void): void {
  for (const dialect of testDatabases()) {
    describe(`${name} [${dialect.name}]`, () => {
      const open = new Set<TestDatabase>();
      after(async () => {
        for (const database of open) await database.drop();
      });
      fn({
        name: dialect.name,
        async create(options) {
          const database = await dialect.create(options);
          open.add(database);
          return {
            ...database,
            async drop() {
              open.delete(database);
              await database.drop();
            },
          };
        },
      });
    });
  }
}

/**
 * A new database before each test of the enclosing block, dropped after it. Call inside the
 * `withEachDatabase` callback; the getter yields the current test's database.
 */
export function useFreshDatabase(dialect: TestDialect): () => TestDatabase {
  let current: TestDatabase | undefined;
  beforeEach(async () => {
    current = await dialect.create();
  });
  afterEach(async () => {
    await current?.drop();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error("useFreshDatabase: no database outside a test");
    return current;
  };
}

/** Environment for a Gatehouse on PostgreSQL: every instance must share one secret key. */
export function postgresEnv(): Record<string, string> {
  return { GATEHOUSE_SECRET_KEY: randomBytes(32).toString("base64") };
}

async function createSqlite(options: CreateOptions = {}): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-store-"));
  const url = `sqlite:${path.join(dir, "x.db")}`;
  // As `gatehouse migrate` does: a database is created with its secret key beside it, so a
  // Gatehouse started on it without GATEHOUSE_SECRET_KEY finds the key rather than refusing.
  createKeyFileForNewDatabase(path.join(dir, "x.db"));
  const store = await openMigrated(url, options, () => rmSync(dir, { recursive: true, force: true }));
  let dropped = false;
  return {
    dialect: "sqlite",
    url,
    store,
    env: {},
    async drop() {
      if (dropped) return;
      dropped = true;
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function createPostgres(serverUrl: string, options: CreateOptions = {}): Promise<TestDatabase> {
  // A fresh schema per database, so test files running side by side never see each other's rows.
  const schema = `gh_${randomBytes(8).toString("hex")}`;
  await createSchema(serverUrl, schema);
  const url = schemaUrl(serverUrl, schema);
  const store = await openMigrated(url, options, () => dropSchema(serverUrl, schema));
  let dropped = false;
  return {
    dialect: "postgres",
    url,
    store,
    env: postgresEnv(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await store.close();
      await dropSchema(serverUrl, schema);
    },
  };
}

async function openMigrated(url: string, options: CreateOptions, cleanUp: () => unknown): Promise<Store> {
  const store = openStore(url);
  try {
    if (options.migrate !== false) await migrateToLatest(store);
    return store;
  } catch (error) {
    await store.close();
    await cleanUp();
    throw error;
  }
}
