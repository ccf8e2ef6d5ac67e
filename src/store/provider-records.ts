import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** One of oidc-provider's stored models, as its adapter contract describes it. */
export interface ProviderRecord {
  payload: Record<string, unknown>;
  consumedAt: number | null;
}

export interface RecordInput {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  /** Epoch milliseconds, or null when the model never expires. */
  expiresAt: number | null;
}

function indexed(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === "string" ? value : null;
}

/**
 * The oidc-provider session a record belongs to: codes and tokens name it `sessionUid`; an
 * interaction keeps the session it started in as `session.uid`.
 */
function sessionUidOf(model: string, payload: Record<string, unknown>): string | null {
  if (model !== "Interaction") return indexed(payload, "sessionUid");
  const session = payload.session;
  return typeof session === "object" && session !== null
    ? indexed(session as Record<string, unknown>, "uid")
    : null;
}

export async function upsertProviderRecord(db: Kysely<Database>, input: RecordInput): Promise<void> {
  const row = {
    payload: JSON.stringify(input.payload),
    grant_id: indexed(input.payload, "grantId"),
    uid: indexed(input.payload, "uid"),
    user_code: indexed(input.payload, "userCode"),
    session_uid: sessionUidOf(input.model, input.payload),
    expires_at: input.expiresAt,
  };
  await db
    .insertInto("provider_records")
    .values({ model: input.model, id: input.id, consumed_at: null, ...row })
    .onConflict((oc) => oc.columns(["model", "id"]).doUpdateSet(row))
    .execute();
}

type Lookup = "id" | "uid" | "user_code";

export async function findProviderRecord(
  db: Kysely<Database>,
  model: string,
  by: Lookup,
  value: string,
  now: number,
): Promise<ProviderRecord | undefined> {
  const row = await db
    .selectFrom("provider_records")
    .select(["payload", "consumed_at"])
    .where("model", "=", model)
    .where(by, "=", value)
    // An expired record is gone, even before the purge removes it.
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .executeTakeFirst();
  if (!row) return undefined;
  return { payload: JSON.parse(row.payload) as Record<string, unknown>, consumedAt: row.consumed_at };
}

/** Marks a record (an authorization code, a rotated refresh token) used; the first caller wins. */
export async function consumeProviderRecord(
  db: Kysely<Database>,
  model: string,
  id: string,
  now: number,
): Promise<void> {
  await db
    .updateTable("provider_records")
    .set({ consumed_at: now })
    .where("model", "=", model)
    .where("id", "=", id)
    .where("consumed_at", "is", null)
    .execute();
}

/**
 * An application's request waiting in a browser (an interaction) outlives the oidc-provider
 * session it started in when Gatehouse ends that session: typically a different person signing
 * in at the IdP during a `prompt=login` request replaces the previous person's Gatehouse
 * session, and with it their application sign-ins. The request is bound to the browser by its
 * own cookie, not to the person (OIDC Core 3.1.2.1: prompt=login lets the end-user
 * authenticate as anyone), so it is detached from the ended session and its grant, and
 * completes for whoever signed in. Left attached, oidc-provider would refuse to resume it.
 */
export async function detachInteractionsFromSessions(
  db: Kysely<Database>,
  sessionUids: readonly string[],
): Promise<void> {
  if (sessionUids.length === 0) return;
  const interactions = await db
    .selectFrom("provider_records")
    .select(["id", "payload"])
    .where("model", "=", "Interaction")
    .where("session_uid", "in", sessionUids)
    .execute();
  for (const { id, payload } of interactions) {
    const { session: _ended, grantId: _revoked, ...rest } = JSON.parse(payload) as Record<string, unknown>;
    await db
      .updateTable("provider_records")
      .set({ payload: JSON.stringify(rest), session_uid: null, grant_id: null })
      .where("model", "=", "Interaction")
      .where("id", "=", id)
      .execute();
  }
}

export async function destroyProviderRecord(db: Kysely<Database>, model: string, id: string): Promise<void> {
  await db.deleteFrom("provider_records").where("model", "=", model).where("id", "=", id).execute();
}

/** Every code and token of one grant, whatever its model: what revoking a grant means. */
export async function destroyProviderRecordsOfGrant(db: Kysely<Database>, grantId: string): Promise<void> {
  await db.deleteFrom("provider_records").where("grant_id", "=", grantId).execute();
}

export async function deleteExpiredProviderRecords(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db
    .deleteFrom("provider_records")
    .where("expires_at", "is not", null)
    .where("expires_at", "<=", now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
