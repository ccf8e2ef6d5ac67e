import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import { withEachDatabase } from "../support/databases.js";

withEachDatabase("store: statements prepared once", (dialect) => {
  test("a repeated query keeps answering with fresh values", async () => {
    const database = await dialect.create();
    try {
      const { db } = database.store;
      await db.insertInto("rate_limits").values({ key: "a", window_start: 1, count: 1 }).execute();
      for (let i = 2; i <= 5; i++) {
        await db.updateTable("rate_limits").set({ count: i }).where("key", "=", "a").execute();
        const row = await db
          .selectFrom("rate_limits")
          .selectAll()
          .where("key", "=", "a")
          .executeTakeFirstOrThrow();
        assert.equal(row.count, i);
      }
    } finally {
      await database.drop();
    }
  });

  test("a statement whose table changed shape under it (another instance migrating) still runs", async () => {
    const database = await dialect.create();
    try {
      const { db } = database.store;
      await db.insertInto("rate_limits").values({ key: "a", window_start: 1, count: 1 }).execute();
      const read = () =>
        db.selectFrom("rate_limits").selectAll().where("key", "=", "a").executeTakeFirstOrThrow();
      assert.equal((await read()).count, 1);
      await sql`alter table rate_limits add column extra integer`.execute(db);
      const row = (await read()) as unknown as Record<string, unknown>;
      assert.equal(row.count, 1);
      assert.ok("extra" in row);
    } finally {
      await database.drop();
    }
  });
});
