import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import { migrateToLatest, openStore, pingDatabase, type Store } from "../../src/store/database.js";
import { withEachDatabase } from "../support/databases.js";

async function recordedMigrations(store: Store): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
    store.db,
  );
  return rows.map((r) => r.name);
}

withEachDatabase("store: migrations", (dialect) => {
  // One SQLite file serves one instance, so the tests of several instances exist for PostgreSQL only.
  const severalInstances = dialect.name === "postgres";

  test("migrateToLatest applies every migration once; running it again is a no-op", async () => {
    const database = await dialect.create({ migrate: false });
    try {
      assert.equal(database.store.dialect, dialect.name);
      const { applied } = await migrateToLatest(database.store);
      assert.equal(applied[0], "0001-initial");
      assert.deepEqual(applied, [...applied].sort());
      assert.deepEqual(await recordedMigrations(database.store), applied);
      assert.deepEqual(await migrateToLatest(database.store), { applied: [] });
      await pingDatabase(database.store);
      const again = openStore(database.url);
      try {
        assert.deepEqual(await migrateToLatest(again), { applied: [] });
      } finally {
        await again.close();
      }
    } finally {
      await database.drop();
    }
  });

  if (!severalInstances) return;

  test("only the counts and the sign-ins in progress skip the write-ahead log; down logs them again", async () => {
    const database = await dialect.create();
    const persistence = async () => {
      const { rows } = await sql<{ name: string; persistence: string }>`
        select relname as name, relpersistence as persistence from pg_class
        where relnamespace = current_schema()::regnamespace and relkind = 'r'
        order by relname
      `.execute(database.store.db);
      return rows;
    };
    try {
      const tables = await persistence();
      assert.ok(tables.length > 20, `${tables.length} tables`);
      const unlogged = tables.filter((t) => t.persistence === "u").map((t) => t.name);
      assert.deepEqual(unlogged, ["login_transactions", "rate_limits"]);
      for (const kept of ["sessions", "users", "audit_events", "saml_assertion_ids", "idempotency_keys"]) {
        assert.equal(tables.find((t) => t.name === kept)?.persistence, "p", kept);
      }

      const migration = await import("../../src/store/migrations/0025-unlogged-sign-in-state.js");
      await migration.down(database.store.db);
      assert.deepEqual(
        (await persistence()).filter((t) => t.persistence !== "p"),
        [],
        "every table logged after down",
      );
      await migration.up(database.store.db);
      assert.deepEqual(
        (await persistence()).filter((t) => t.persistence === "u").map((t) => t.name),
        ["login_transactions", "rate_limits"],
      );
    } finally {
      await database.drop();
    }
  });

  test("two instances migrating one database at once both succeed", async () => {
    const database = await dialect.create({ migrate: false });
    const stores = [openStore(database.url), openStore(database.url)];
    try {
      const reports = await Promise.all(stores.map((store) => migrateToLatest(store)));
      const recorded = await recordedMigrations(database.store);
      assert.equal(recorded[0], "0001-initial");
      // Each migration ran once, in whichever instance took the lock first.
      assert.deepEqual(reports.flatMap((r) => r.applied).sort(), recorded);
    } finally {
      for (const store of stores) await store.close();
      await database.drop();
    }
  });

  test("a schema migrates on its own while another in the same database is already migrated", async () => {
    // Kysely looks for its bookkeeping tables in every schema; this one must get its own.
    const migrated = await dialect.create();
    const fresh = await dialect.create({ migrate: false });
    try {
      const { applied } = await migrateToLatest(fresh.store);
      assert.deepEqual(applied, await recordedMigrations(migrated.store));
      const { rows } = await sql<{ schema: string }>`
        select table_schema as schema from information_schema.tables where table_name = 'kysely_migration'
      `.execute(fresh.store.db);
      const current = await sql<{ schema: string }>`select current_schema() as schema`.execute(
        fresh.store.db,
      );
      assert.ok(rows.some((r) => r.schema === current.rows[0]?.schema));
    } finally {
      await fresh.drop();
      await migrated.drop();
    }
  });
});
