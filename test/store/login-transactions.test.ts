import assert from "node:assert/strict";
import { test } from "node:test";
import { migrateToLatest, migrateUpTo } from "../../src/store/database.js";
import {
  consumeLoginTransaction,
  countOpenTransactionsForBrowser,
  insertLoginTransaction,
  type LoginTransaction,
  purgeLoginTransactions,
} from "../../src/store/login-transactions.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { day, minute, seedConnection, seedOrganization, t0 } from "./fixtures.js";

function transaction(id: string, overrides: Partial<LoginTransaction> = {}): LoginTransaction {
  return {
    id,
    protocol: "linkedin",
    connection_id: null,
    browser_hash: "browser-1",
    payload: JSON.stringify({ nonce: `nonce-${id}` }),
    return_to: "/admin",
    created_at: t0,
    expires_at: t0 + 10 * minute,
    consumed_at: null,
    purpose: "sign_in",
    connection_test_id: null,
    login_hint: null,
    reauthenticate: 0,
    ...overrides,
  };
}

withEachDatabase("store: login transactions", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("a transaction is consumed once; afterwards it is reported as already consumed", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const connectionId = await seedConnection(db, acme, { domains: ["acme.test"] });
    const tx = transaction("state-hash", { protocol: "oidc", connection_id: connectionId });
    await insertLoginTransaction(db, tx);

    assert.deepEqual(await consumeLoginTransaction(db, "state-hash", t0 + minute), {
      tx,
      alreadyConsumed: false,
    });
    assert.deepEqual(await consumeLoginTransaction(db, "state-hash", t0 + 2 * minute), {
      tx: { ...tx, consumed_at: t0 + minute },
      alreadyConsumed: true,
    });
  });

  test("consuming an unknown transaction finds nothing", async () => {
    const { db } = database().store;
    assert.equal(await consumeLoginTransaction(db, "no-such-state", t0), undefined);
  });

  test("of concurrent consumes of one transaction exactly one wins", async () => {
    const { db } = database().store;
    await insertLoginTransaction(db, transaction("raced"));
    const results = await Promise.all(
      Array.from({ length: 5 }, () => consumeLoginTransaction(db, "raced", t0 + minute)),
    );
    assert.deepEqual(results.map((r) => r?.alreadyConsumed).sort(), [false, true, true, true, true]);
    for (const result of results) assert.equal(result?.tx.payload, JSON.stringify({ nonce: "nonce-raced" }));
  });

  test("countOpenTransactionsForBrowser counts the browser's unconsumed, unexpired transactions", async () => {
    const { db } = database().store;
    await insertLoginTransaction(db, transaction("open-1"));
    await insertLoginTransaction(db, transaction("open-2", { expires_at: t0 + 2 * minute }));
    await insertLoginTransaction(db, transaction("consumed"));
    await consumeLoginTransaction(db, "consumed", t0);
    await insertLoginTransaction(db, transaction("expired", { expires_at: t0 }));
    await insertLoginTransaction(db, transaction("other-browser", { browser_hash: "browser-2" }));

    const count = await countOpenTransactionsForBrowser(db, "browser-1", t0);
    assert.equal(count, 2);
    assert.equal(typeof count, "number");
    assert.equal(await countOpenTransactionsForBrowser(db, "browser-1", t0 + 2 * minute), 1);
    assert.equal(await countOpenTransactionsForBrowser(db, "browser-3", t0), 0);
  });

  test("purgeLoginTransactions deletes transactions expired for more than a day, consumed or not", async () => {
    const { db } = database().store;
    const now = t0 + 3 * day;
    await insertLoginTransaction(db, transaction("long-expired", { expires_at: now - day - 1 }));
    await insertLoginTransaction(
      db,
      transaction("long-consumed", { expires_at: now - 2 * day, consumed_at: t0 }),
    );
    await insertLoginTransaction(db, transaction("recently-expired", { expires_at: now - day }));
    await insertLoginTransaction(
      db,
      transaction("recently-consumed", { expires_at: now - minute, consumed_at: now - 5 * minute }),
    );
    await insertLoginTransaction(db, transaction("open", { expires_at: now + minute }));

    assert.equal(await purgeLoginTransactions(db, now), 2);
    const left = await db.selectFrom("login_transactions").select("id").orderBy("id").execute();
    assert.deepEqual(
      left.map((r) => r.id),
      ["open", "recently-consumed", "recently-expired"],
    );
    assert.equal(await purgeLoginTransactions(db, now), 0);
  });

  test("the address typed to start is read back with the transaction; none is null", async () => {
    const { db } = database().store;
    await insertLoginTransaction(db, transaction("typed", { login_hint: "ada@acme.test" }));
    const { login_hint: _omitted, ...untyped } = transaction("untyped");
    await insertLoginTransaction(db, untyped);
    assert.equal((await consumeLoginTransaction(db, "typed", t0 + minute))?.tx.login_hint, "ada@acme.test");
    assert.equal((await consumeLoginTransaction(db, "untyped", t0 + minute))?.tx.login_hint, null);
  });

  test("0027: a sign-in begun before the upgrade completes after it, with no typed address", async () => {
    const fresh = await dialect.create({ migrate: false });
    try {
      await migrateUpTo(fresh.store, "0026-saml-slo-response-url");
      const { login_hint: _omitted, reauthenticate: _later, ...before } = transaction("begun-before");
      // A row as the schema before 0027 has it (and 0031's column does not exist yet either).
      await fresh.store.db
        .insertInto("login_transactions")
        .values(before as LoginTransaction)
        .execute();
      const { applied } = await migrateToLatest(fresh.store);
      assert.ok(applied.includes("0027-login-hint"));
      const consumed = await consumeLoginTransaction(fresh.store.db, "begun-before", t0 + minute);
      assert.equal(consumed?.alreadyConsumed, false);
      assert.equal(consumed?.tx.login_hint, null);
      const migration = await import("../../src/store/migrations/0027-login-hint.js");
      await migration.down(fresh.store.db);
      const row = await fresh.store.db.selectFrom("login_transactions").selectAll().executeTakeFirstOrThrow();
      assert.equal("login_hint" in row, false, "down drops the column");
    } finally {
      await fresh.drop();
    }
  });

  test("0031: a sign-in begun before the upgrade did not ask the IdP to re-authenticate", async () => {
    const fresh = await dialect.create({ migrate: false });
    try {
      await migrateUpTo(fresh.store, "0030-native-applications");
      const { reauthenticate: _omitted, ...before } = transaction("begun-before");
      // A row as the schema before 0031 has it: the column does not exist yet.
      await fresh.store.db
        .insertInto("login_transactions")
        .values(before as LoginTransaction)
        .execute();
      const { applied } = await migrateToLatest(fresh.store);
      assert.ok(applied.includes("0031-fresh-sign-in"));
      const consumed = await consumeLoginTransaction(fresh.store.db, "begun-before", t0 + minute);
      assert.equal(consumed?.tx.reauthenticate, 0);
      await insertLoginTransaction(fresh.store.db, transaction("fresh", { reauthenticate: 1 }));
      assert.equal(
        (await consumeLoginTransaction(fresh.store.db, "fresh", t0 + minute))?.tx.reauthenticate,
        1,
      );
    } finally {
      await fresh.drop();
    }
  });
});
