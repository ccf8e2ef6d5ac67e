import assert from "node:assert/strict";
import { test } from "node:test";
import type { Kysely } from "kysely";
import { migrateToLatest, migrateUpTo } from "../../src/store/database.js";
import { consumeLoginTransaction } from "../../src/store/login-transactions.js";
import { withEachDatabase } from "../support/databases.js";
import { minute, t0 } from "./fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: rows as of migration 0020, before the schema types changed
type AnyDb = Kysely<any>;

withEachDatabase("store: protocol-neutral login transactions (0022-sign-in-transactions)", (dialect) => {
  test("sign-ins open across the upgrade keep their nonce and verifier, as the OpenID Connect payload", async () => {
    const database = await dialect.create({ migrate: false });
    const { db } = database.store;
    await migrateUpTo(database.store, "0020-protocol-connections");
    const row = (id: string, kind: "sso" | "linkedin", consumed: number | null) => ({
      id,
      kind,
      connection_id: null,
      browser_hash: "browser",
      nonce: `nonce-${id}`,
      code_verifier: `verifier-${id}`,
      return_to: "/admin",
      created_at: t0,
      expires_at: t0 + 10 * minute,
      consumed_at: consumed,
    });
    for (const r of [
      row("open-sso", "sso", null),
      row("open-linkedin", "linkedin", null),
      row("used", "sso", t0),
    ]) {
      await (db as unknown as AnyDb).insertInto("login_transactions").values(r).execute();
    }

    const { applied } = await migrateToLatest(database.store);
    assert.ok(applied.includes("0022-sign-in-transactions"));

    const sso = await consumeLoginTransaction(db, "open-sso", t0 + minute);
    assert.equal(sso?.alreadyConsumed, false);
    assert.equal(sso?.tx.protocol, "oidc");
    assert.deepEqual(JSON.parse(sso?.tx.payload ?? ""), {
      nonce: "nonce-open-sso",
      codeVerifier: "verifier-open-sso",
    });
    const linkedin = await consumeLoginTransaction(db, "open-linkedin", t0 + minute);
    assert.equal(linkedin?.tx.protocol, "linkedin");
    assert.deepEqual(JSON.parse(linkedin?.tx.payload ?? ""), {
      nonce: "nonce-open-linkedin",
      codeVerifier: "verifier-open-linkedin",
    });
    // A used one is kept for replay detection only: it still answers "already used".
    const used = await consumeLoginTransaction(db, "used", t0 + minute);
    assert.equal(used?.alreadyConsumed, true);
    assert.equal(used?.tx.protocol, "oidc");

    const columns = Object.keys(
      (await db
        .selectFrom("login_transactions")
        .selectAll()
        .where("id", "=", "used")
        .executeTakeFirstOrThrow()) as object,
    );
    assert.deepEqual(
      columns.filter((c) => ["kind", "nonce", "code_verifier"].includes(c)),
      [],
    );
    await database.drop();
  });
});
