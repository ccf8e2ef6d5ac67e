import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { openStore } from "../../src/store/database.js";
import { reserveSamlConnectionId, useReservedSamlConnectionId } from "../../src/store/saml-reserved-ids.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { seedOrganization, t0 } from "./fixtures.js";

withEachDatabase("store: reserved SAML connection ids", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("the first reservation holds: later candidates get the reserved id, other organizations their own", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const first = randomUUID();
    assert.equal(await reserveSamlConnectionId(db, acme.id, first, t0), first);
    assert.equal(await reserveSamlConnectionId(db, acme.id, randomUUID(), t0 + 1), first);
    const other = await reserveSamlConnectionId(db, globex.id, randomUUID(), t0);
    assert.notEqual(other, first);
  });

  test("of concurrent first reservations every one reads back the same id", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => reserveSamlConnectionId(db, acme.id, randomUUID(), t0)),
    );
    assert.equal(new Set(ids).size, 1, ids.join(" "));
  });

  test("a reserved id is used up once, by its own organization only; then another is reserved", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const id = await reserveSamlConnectionId(db, acme.id, randomUUID(), t0);
    assert.equal(await useReservedSamlConnectionId(db, globex.id, id), false, "not globex's");
    assert.equal(await useReservedSamlConnectionId(db, acme.id, randomUUID()), false, "not this id");
    const raced = await Promise.all([
      db.transaction().execute((trx) => useReservedSamlConnectionId(trx, acme.id, id)),
      db.transaction().execute((trx) => useReservedSamlConnectionId(trx, acme.id, id)),
    ]);
    assert.deepEqual(raced.sort(), [false, true]);
    const next = randomUUID();
    assert.equal(await reserveSamlConnectionId(db, acme.id, next, t0), next);
  });

  test("deleting the organization deletes its reservation", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await reserveSamlConnectionId(db, acme.id, randomUUID(), t0);
    await db.deleteFrom("organizations").where("id", "=", acme.id).execute();
    const left = await db.selectFrom("saml_reserved_connection_ids").selectAll().execute();
    assert.deepEqual(left, []);
  });

  if (dialect.name === "postgres") {
    test("two instances reserving at once for one organization agree", async () => {
      const first = database();
      const second = openStore(first.url);
      try {
        const acme = await seedOrganization(first.store.db, "acme");
        const ids = await Promise.all([
          reserveSamlConnectionId(first.store.db, acme.id, randomUUID(), t0),
          reserveSamlConnectionId(second.db, acme.id, randomUUID(), t0),
        ]);
        assert.equal(ids[0], ids[1]);
      } finally {
        await second.close();
      }
    });
  }
});
