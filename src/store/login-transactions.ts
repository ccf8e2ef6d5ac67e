import type { Kysely } from "kysely";
import { prepared } from "./prepared.js";
import type { Database, LoginTransactionsTable } from "./schema.js";

export type LoginTransaction = LoginTransactionsTable;

/** A sign-in unless `purpose` says it is a test. */
export type NewLoginTransaction = Omit<
  LoginTransaction,
  "purpose" | "connection_test_id" | "login_hint" | "reauthenticate"
> &
  Partial<Pick<LoginTransaction, "purpose" | "connection_test_id" | "login_hint" | "reauthenticate">>;

const transactionInsert = prepared<{ [K in keyof LoginTransaction]: LoginTransaction[K] }, unknown>(
  [
    "id",
    "protocol",
    "connection_id",
    "browser_hash",
    "return_to",
    "payload",
    "created_at",
    "expires_at",
    "consumed_at",
    "purpose",
    "connection_test_id",
    "login_hint",
    "reauthenticate",
  ],
  (db, tx) => db.insertInto("login_transactions").values(tx),
);

/** Every sign-in begins here (its SQL built once, see `prepared`). */
export async function insertLoginTransaction(db: Kysely<Database>, tx: NewLoginTransaction): Promise<void> {
  await transactionInsert(db, {
    purpose: "sign_in",
    connection_test_id: null,
    login_hint: null,
    reauthenticate: 0,
    ...tx,
  });
}

const claimTransaction = prepared(["id", "now"], (db, { id, now }: { id: string; now: number }) =>
  db
    .updateTable("login_transactions")
    .set({ consumed_at: now })
    .where("id", "=", id)
    .where("consumed_at", "is", null)
    .returningAll(),
);

/**
 * Marks the transaction consumed and returns it as it was before, atomically: of two
 * callbacks racing with the same state, exactly one sees `consumed_at: null`.
 */
export async function consumeLoginTransaction(
  db: Kysely<Database>,
  id: string,
  now: number,
): Promise<{ tx: LoginTransaction; alreadyConsumed: boolean } | undefined> {
  const [claimed] = (await claimTransaction(db, { id, now })).rows;
  if (claimed) return { tx: { ...claimed, consumed_at: null }, alreadyConsumed: false };
  const existing = await db
    .selectFrom("login_transactions")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return existing ? { tx: existing, alreadyConsumed: true } : undefined;
}

export async function countOpenTransactionsForBrowser(
  db: Kysely<Database>,
  browserHash: string,
  now: number,
): Promise<number> {
  const row = await db
    .selectFrom("login_transactions")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("browser_hash", "=", browserHash)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Unhooks a connection's pending sign-ins before the connection is deleted: the foreign key
 * would otherwise delete them with it, and their callbacks could then only answer "unknown
 * sign-in" instead of "the connection was deleted". Expiry purges them as usual.
 */
export async function detachLoginTransactions(db: Kysely<Database>, connectionId: string): Promise<number> {
  const result = await db
    .updateTable("login_transactions")
    .set({ connection_id: null })
    .where("connection_id", "=", connectionId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Consumed transactions are kept a day for replay detection, then purged with expired ones. */
export async function purgeLoginTransactions(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db
    .deleteFrom("login_transactions")
    .where("expires_at", "<", now - 24 * 3600 * 1000)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
