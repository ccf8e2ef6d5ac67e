import type { Kysely } from "kysely";
import type { ConnectionTestsTable, Database } from "./schema.js";

export type ConnectionTestRow = ConnectionTestsTable;

export async function insertConnectionTest(db: Kysely<Database>, row: ConnectionTestRow): Promise<void> {
  await db.insertInto("connection_tests").values(row).execute();
}

/** A test of this organization; another organization's id is not found. */
export async function findConnectionTest(
  db: Kysely<Database>,
  organizationId: string,
  id: string,
): Promise<ConnectionTestRow | undefined> {
  return db
    .selectFrom("connection_tests")
    .selectAll()
    .where("id", "=", id)
    .where("organization_id", "=", organizationId)
    .executeTakeFirst();
}

export async function findConnectionTestById(
  db: Kysely<Database>,
  id: string,
): Promise<ConnectionTestRow | undefined> {
  return db.selectFrom("connection_tests").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Binds a test started with an API key to the first admin session that opens it; a test
 * already bound stays with its session. Returns whether `sessionHash` now owns the test.
 */
export async function claimConnectionTest(
  db: Kysely<Database>,
  id: string,
  sessionHash: string,
): Promise<boolean> {
  await db
    .updateTable("connection_tests")
    .set({ session_hash: sessionHash })
    .where("id", "=", id)
    .where("session_hash", "is", null)
    .execute();
  const row = await db
    .selectFrom("connection_tests")
    .select("session_hash")
    .where("id", "=", id)
    .executeTakeFirst();
  return row?.session_hash === sessionHash;
}

/**
 * Stores the result. The unsaved settings and sealed secret stay until the test expires, so
 * the admin can create the connection from them; nothing reads them after that.
 */
export async function finishConnectionTest(
  db: Kysely<Database>,
  id: string,
  result: { outcome: "success" | "failure"; result: string },
  now: number,
): Promise<void> {
  await db
    .updateTable("connection_tests")
    .set({
      outcome: result.outcome,
      result: result.result,
      finished_at: now,
    })
    .where("id", "=", id)
    .execute();
}

/** Tests past their expiry lose their unsaved settings and secret at once, and the rest a day later. */
export async function purgeConnectionTests(db: Kysely<Database>, now: number): Promise<number> {
  await db
    .updateTable("connection_tests")
    .set({ settings: null, client_secret_sealed: null })
    .where("expires_at", "<=", now)
    .where("client_secret_sealed", "is not", null)
    .execute();
  const result = await db
    .deleteFrom("connection_tests")
    .where("expires_at", "<", now - 24 * 3600 * 1000)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
