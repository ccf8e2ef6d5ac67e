import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import { touchSessionBatched } from "../../src/session/touches.js";
import { openStore } from "../../src/store/database.js";
import { insertSession, revokeSession } from "../../src/store/sessions.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { hour, minute, newSession, seedMember, seedOrganization, t0 } from "./fixtures.js";

withEachDatabase("sessions' last uses, written in batches", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("uses that arrive together go in one statement, each with its own answer", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test");
    const sessions = Array.from({ length: 20 }, () => newSession(ada, { organizationId: acme.id }));
    for (const session of sessions) await insertSession(db, session);
    const [revoked, idle] = sessions;
    await revokeSession(db, revoked!.idHash, t0 + minute);
    // Last used at t0; with a 1-hour idle timeout, over at +61 min. The others are used at +30.
    const statements: string[] = [];
    const store = openStore(database().url, { onStatement: (sql) => statements.push(sql) });
    try {
      const now = t0 + 61 * minute;
      const touch = (idHash: string, at: number) => touchSessionBatched(store.db, idHash, at, at - hour);
      await Promise.all(sessions.slice(2).map((s) => touch(s.idHash, t0 + 30 * minute)));
      statements.length = 0;
      const answers = await Promise.all([
        touch(revoked!.idHash, now),
        touch(idle!.idHash, now),
        ...sessions.slice(2).map((s) => touch(s.idHash, now)),
        touch(sessions[2]!.idHash, now),
      ]);
      assert.deepEqual(answers, [false, false, ...sessions.slice(2).map(() => true), true]);
      const updates = statements.filter((s) => /^\s*update "sessions"/i.test(s));
      assert.equal(updates.length, 1, "every use of this turn of the event loop in one statement");
      const rows = await db.selectFrom("sessions").select(["id_hash", "last_seen_at"]).execute();
      const seen = new Map(rows.map((r) => [r.id_hash, r.last_seen_at]));
      for (const session of sessions.slice(2)) assert.equal(seen.get(session.idHash), now);
      assert.equal(seen.get(idle!.idHash), t0, "an idle session's last use is not moved");
    } finally {
      await store.close();
    }
  });

  test("a failed write fails every use that waited for it, and the next use writes again", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test");
    const session = newSession(ada, { organizationId: acme.id });
    await insertSession(db, session);
    await sql`alter table sessions rename to sessions_elsewhere`.execute(db);
    const failed = [1, 2, 3].map(() => touchSessionBatched(db, session.idHash, t0 + minute, t0 - hour));
    for (const use of failed) await assert.rejects(use);
    await sql`alter table sessions_elsewhere rename to sessions`.execute(db);
    assert.equal(await touchSessionBatched(db, session.idHash, t0 + minute, t0 - hour), true);
  });
});
