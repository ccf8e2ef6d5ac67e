import assert from "node:assert/strict";
import { test } from "node:test";
import type { KyselyPlugin } from "kysely";
import { openStore } from "../../src/store/database.js";
import { prepared } from "../../src/store/prepared.js";
import type { Role } from "../../src/store/schema.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { seedMember, seedOrganization } from "./fixtures.js";

const memberByEmail = prepared(["email", "role"], (db, { email, role }: { email: string; role: Role }) =>
  db
    .selectFrom("users")
    .innerJoin("memberships", "memberships.user_id", "users.id")
    .select(["users.email as email", "memberships.role as role"])
    .where("users.email", "=", email)
    // The same argument twice and a fixed value between: each is bound in its own place.
    .where((eb) => eb.or([eb("memberships.role", "=", role), eb("memberships.role", "=", "owner")]))
    .where("users.email", "like", email),
);

withEachDatabase("queries built once (prepared)", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("each call binds its own arguments, where the query builder put them, built once", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await seedMember(db, acme, "ada@acme.test");
    await seedMember(db, acme, "bob@acme.test");
    const statements: string[] = [];
    const store = openStore(database().url, { onStatement: (sql) => statements.push(sql) });
    try {
      const ada = await memberByEmail(store.db, { email: "ada@acme.test", role: "member" });
      const bob = await memberByEmail(store.db, { email: "bob@acme.test", role: "member" });
      const none = await memberByEmail(store.db, { email: "bob@acme.test", role: "admin" });
      assert.deepEqual(ada.rows, [{ email: "ada@acme.test", role: "member" }]);
      assert.deepEqual(bob.rows, [{ email: "bob@acme.test", role: "member" }]);
      assert.deepEqual(none.rows, []);
      assert.equal(new Set(statements).size, 1, "one SQL text for every call");
      // Inside a transaction (another handle on the same database) too.
      const inTransaction = await store.db
        .transaction()
        .execute((trx) => memberByEmail(trx, { email: "ada@acme.test", role: "member" }));
      assert.deepEqual(inTransaction.rows, ada.rows);
    } finally {
      await store.close();
    }
  });

  test("a handle with plugins gets the query built with the real values, so the plugins see them", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await seedMember(db, acme, "ada@acme.test");
    const seen: unknown[][] = [];
    const recorder: KyselyPlugin = {
      transformQuery(args) {
        seen.push([...db.getExecutor().compileQuery(args.node, args.queryId).parameters]);
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    await memberByEmail(db, { email: "ada@acme.test", role: "member" });
    const result = await memberByEmail(db.withPlugin(recorder), { email: "ada@acme.test", role: "member" });
    assert.deepEqual(result.rows, [{ email: "ada@acme.test", role: "member" }]);
    assert.deepEqual(seen, [["ada@acme.test", "member", "owner", "ada@acme.test"]]);
  });

  test("a query that does not bind an argument as given (transformed, or unused) is refused when built", async () => {
    const { db } = database().store;
    const lowered = prepared(["email"], (d, { email }: { email: string }) =>
      d.selectFrom("users").select("id").where("email", "=", email.toLowerCase()),
    );
    await assert.rejects(() => lowered(db, { email: "Ada@Acme.test" }), /does not bind email/);
  });
});
