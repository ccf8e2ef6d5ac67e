import assert from "node:assert/strict";
import { test } from "node:test";
import { provisionSsoUser, type VerifiedIdentity } from "../../src/sign-in/provision.js";
import { openStore } from "../../src/store/database.js";
import { findUserById } from "../../src/store/users.js";
import { seedConnection, seedOrganization, t0 } from "../store/fixtures.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";

withEachDatabase("provisioning a returning user", (dialect) => {
  const database = useFreshDatabase(dialect);

  async function setUp() {
    const { db } = database().store;
    const acme = await seedOrganization(db);
    const connectionId = await seedConnection(db, acme, { domains: ["acme.test"] });
    const identity: VerifiedIdentity = {
      providerKey: `connection:${connectionId}`,
      connectionId,
      subject: "sub-ada",
      email: "ada@acme.test",
      name: "Ada Lovelace",
      givenName: "Ada",
      familyName: "Lovelace",
    };
    const first = await db.transaction().execute((trx) => provisionSsoUser(trx, identity, acme.id, t0));
    assert.equal(first.created, true);
    return { acme, identity, userId: first.userId };
  }

  /** Provisions through a second handle on the same database that records each statement. */
  async function provisionCounting(identity: VerifiedIdentity, organizationId: string) {
    const statements: string[] = [];
    const store = openStore(database().url, { onStatement: (sql) => statements.push(sql) });
    try {
      const result = await store.db
        .transaction()
        .execute((trx) => provisionSsoUser(trx, identity, organizationId, t0 + 1000));
      return { result, statements };
    } finally {
      await store.close();
    }
  }

  test("unchanged names write nothing to the user, and the membership needs no read of its own", async () => {
    const { acme, identity } = await setUp();
    const { result, statements } = await provisionCounting(identity, acme.id);
    assert.equal(result.created, false);
    assert.deepEqual(
      statements.filter((s) => /^\s*update "users"|^\s*select .* from "memberships"/i.test(s)),
      [],
      statements.join("\n"),
    );
  });

  test("names the provider changed follow it, and only those are written", async () => {
    const { acme, identity, userId } = await setUp();
    const { statements } = await provisionCounting(
      { ...identity, name: "Ada King", familyName: "King" },
      acme.id,
    );
    const updates = statements.filter((s) => /^\s*update "users"/i.test(s));
    assert.equal(updates.length, 1, statements.join("\n"));
    assert.match(updates[0] ?? "", /"name" = .*"family_name" = /);
    assert.doesNotMatch(updates[0] ?? "", /given_name/);
    const user = await findUserById(database().store.db, userId);
    assert.equal(user?.name, "Ada King");
  });
});
