import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import pg from "pg";
import { isDatabaseUnavailable } from "../../src/store/availability.js";
import { openStore } from "../../src/store/database.js";
import { testDatabases } from "../support/databases.js";

const postgres = testDatabases().find((d) => d.name === "postgres");

// Regression: a PostgreSQL restart sends 57P01 to every backend; a client that was checked out
// at that moment emitted "error" to no listener and the whole process exited.
test("a connection the server drops while it is checked out is reported, not fatal, and answers as unavailable", {
  skip: postgres ? false : "GATEHOUSE_TEST_POSTGRES_URL is not set",
}, async () => {
  const database = await (postgres as NonNullable<typeof postgres>).create();
  const reported: Error[] = [];
  const store = openStore(database.url, { onIdleError: (error) => reported.push(error) });
  const killer = new pg.Client({ connectionString: database.url });
  await killer.connect();
  try {
    const failure = await store.db
      .transaction()
      .execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await killer.query("select pg_terminate_backend($1)", [rows[0]?.pid]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await sql`select 1`.execute(trx);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(failure, "the query on the dropped connection fails");
    assert.equal(isDatabaseUnavailable(failure), true, String(failure));
    assert.ok(
      reported.some((e) => (e as { code?: string }).code === "57P01"),
      "the loss was reported",
    );
    // The pool discards the broken client; the next query gets a fresh one.
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
    assert.equal(rows[0]?.one, 1);
  } finally {
    await killer.end();
    await store.close();
    await database.drop();
  }
});
