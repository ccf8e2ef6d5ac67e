import assert from "node:assert/strict";
import { test } from "node:test";
import { type Kysely, sql } from "kysely";
import { migrateToLatest, migrateUpTo } from "../../src/store/database.js";
import type { Database } from "../../src/store/schema.js";
import { insertUser, listOrganizationUsers, updateUserEmail } from "../../src/store/users.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { seedMember, seedOrganization, t0 } from "./fixtures.js";

async function membershipEmails(db: Kysely<Database>): Promise<Record<string, string>> {
  const rows = await db
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .select(["users.email as email", "memberships.user_email as copy", "memberships.organization_id as org"])
    .execute();
  return Object.fromEntries(rows.map((r) => [`${r.org}/${r.email}`, r.copy]));
}

function assertInSync(copies: Record<string, string>): void {
  for (const [key, copy] of Object.entries(copies)) assert.equal(copy, key.split("/")[1], key);
}

withEachDatabase("store: a membership's copy of its user's email (0024-membership-emails)", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("memberships made before 0024 get their user's email, and the list pages by it", async () => {
    const fresh = await dialect.create({ migrate: false });
    const db = fresh.store.db;
    await migrateUpTo(fresh.store, "0023-saml-connections");
    const raw = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await raw
      .insertInto("organizations")
      .values({ id: "org-acme", slug: "acme", name: "Acme", created_at: t0 })
      .execute();
    for (const [id, email] of [
      ["u-b", "bob@acme.test"],
      ["u-a", "ada@acme.test"],
      ["u-c", "cy@acme.test"],
    ] as const) {
      await raw.insertInto("users").values({ id, email, name: null, created_at: t0 }).execute();
      await raw
        .insertInto("memberships")
        .values({ organization_id: "org-acme", user_id: id, role: "member", created_at: t0 })
        .execute();
    }

    const { applied } = await migrateToLatest(fresh.store);
    assert.ok(applied.includes("0024-membership-emails"));
    assertInSync(await membershipEmails(db));
    const first = await listOrganizationUsers(db, "org-acme", { limit: 2 });
    assert.deepEqual(
      first.map((u) => u.email),
      ["ada@acme.test", "bob@acme.test"],
    );
    const next = await listOrganizationUsers(db, "org-acme", { limit: 2, after: ["bob@acme.test", "u-b"] });
    assert.deepEqual(
      next.map((u) => u.email),
      ["cy@acme.test"],
    );
  });

  test("a changed email moves its user in the list of every organization, whoever wrote it", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const ada = await seedMember(db, acme, "ada@acme.test");
    await seedMember(db, acme, "bob@acme.test");
    await seedMember(db, acme, "cy@acme.test");
    await db
      .insertInto("memberships")
      .values({ organization_id: globex.id, user_id: ada.id, role: "member", created_at: t0 })
      .execute();
    assertInSync(await membershipEmails(db));

    await updateUserEmail(db, ada.id, "zed@acme.test");
    assertInSync(await membershipEmails(db));
    assert.deepEqual(
      (await listOrganizationUsers(db, acme.id)).map((u) => u.email),
      ["bob@acme.test", "cy@acme.test", "zed@acme.test"],
    );
    assert.deepEqual(
      (await listOrganizationUsers(db, globex.id)).map((u) => u.email),
      ["zed@acme.test"],
    );

    // A statement that is not Gatehouse's (an operator's SQL, a restore) is followed as well.
    await sql`update users set email = 'aaron@acme.test' where id = ${ada.id}`.execute(db);
    assertInSync(await membershipEmails(db));
    assert.equal((await listOrganizationUsers(db, acme.id, { limit: 1 }))[0]?.email, "aaron@acme.test");
  });

  test("a membership written without the email, or with another one, holds its user's email", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const bob = await insertUser(db, { email: "bob@acme.test" }, t0);
    await db
      .insertInto("memberships")
      .values({ organization_id: acme.id, user_id: ada.id, role: "member", created_at: t0 })
      .execute();
    await db
      .insertInto("memberships")
      .values({
        organization_id: acme.id,
        user_id: bob.id,
        role: "member",
        created_at: t0,
        user_email: "x@evil.test",
      })
      .execute();
    assertInSync(await membershipEmails(db));
    await db
      .updateTable("memberships")
      .set({ user_email: "a@evil.test" })
      .where("user_id", "=", bob.id)
      .execute();
    assertInSync(await membershipEmails(db));
  });

  test("a page of 50 among many members reads its own length of the email index", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    for (let i = 0; i < 120; i++) await seedMember(db, acme, `user${String(i).padStart(3, "0")}@acme.test`);
    const first = await listOrganizationUsers(db, acme.id, { limit: 50 });
    assert.equal(first.length, 50);
    const last = first.at(-1);
    assert.ok(last);
    const second = await listOrganizationUsers(db, acme.id, { limit: 50, after: [last.email, last.id] });
    assert.equal(second[0]?.email, "user050@acme.test");

    const plan = await explain(
      db,
      dialect.name,
      sql`select user_id from memberships where organization_id = ${acme.id}
          order by user_email, user_id limit 50`,
    );
    assert.match(plan, /memberships_org_email_idx/);
    assert.doesNotMatch(plan, /TEMP B-TREE|Sort\b/i, plan);
  });
});

async function explain(
  db: Kysely<Database>,
  dialect: string,
  query: ReturnType<typeof sql>,
): Promise<string> {
  if (dialect === "postgres") {
    // A table this small is read whole by preference: ask for the plan an index can give.
    const rows = await db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      await sql`set local enable_bitmapscan = off`.execute(trx);
      return (await sql<{ "QUERY PLAN": string }>`explain ${query}`.execute(trx)).rows;
    });
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  }
  const rows = (await sql<{ detail: string }>`explain query plan ${query}`.execute(db)).rows;
  return rows.map((r) => r.detail).join("\n");
}
