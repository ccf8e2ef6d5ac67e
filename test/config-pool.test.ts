import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { ConfigError, loadConfig } from "../src/config.js";
import type { AppContext } from "../src/server/context.js";
import { createContext } from "../src/server/context-factory.js";
import { createLogger } from "../src/server/log.js";
import { postgresUrlVariable, type TestDatabase, testDatabases } from "./support/databases.js";

const postgres = testDatabases().find((dialect) => dialect.name === "postgres");
// Per test rather than per suite, so that the runner counts each one as skipped.
const skip = postgres ? false : `${postgresUrlVariable} is not set`;

describe("GATEHOUSE_DATABASE_POOL_SIZE", () => {
  test("defaults to 10", () => {
    assert.equal(loadConfig({}).databasePoolSize, 10);
    assert.equal(loadConfig({ GATEHOUSE_DATABASE_POOL_SIZE: "" }).databasePoolSize, 10);
  });

  test("accepts a whole number from 1 to 100", () => {
    for (const value of ["1", "25", "100"]) {
      assert.equal(loadConfig({ GATEHOUSE_DATABASE_POOL_SIZE: value }).databasePoolSize, Number(value));
    }
  });

  test("refuses anything else, naming the variable", () => {
    for (const value of ["0", "101", "-3", "2.5", "ten", "1e3"]) {
      assert.throws(
        () => loadConfig({ GATEHOUSE_DATABASE_POOL_SIZE: value }),
        (error: unknown) =>
          error instanceof ConfigError && error.message.includes("GATEHOUSE_DATABASE_POOL_SIZE"),
        value,
      );
    }
  });
});

describe("the PostgreSQL pool", () => {
  let database: TestDatabase;
  let ctx: AppContext;

  before(async () => {
    if (!postgres) return;
    database = await postgres.create();
    ctx = await createContext(
      loadConfig({
        ...database.env,
        GATEHOUSE_DATABASE_URL: database.url,
        GATEHOUSE_DATABASE_POOL_SIZE: "2",
      }),
      { migrate: false, log: createLogger("warn", new Writable({ write: (_c, _e, done) => done() })) },
    );
  });

  after(async () => {
    await ctx?.store.close();
    await database?.drop();
  });

  test("opens no more connections than the configured size", { skip }, async () => {
    // Each query holds its connection briefly, so eight at once need every connection the pool allows.
    const backends = await Promise.all(
      Array.from({ length: 8 }, () =>
        sql<{ pid: number }>`select pg_backend_pid() as pid from pg_sleep(0.05)`.execute(ctx.store.db),
      ),
    );
    const distinct = new Set(backends.map((result) => result.rows[0]?.pid));
    assert.equal(distinct.size, 2);
  });
});
