import type { Kysely } from "kysely";
import type { Database, SignInMethod } from "./schema.js";

export interface ApplicationSignIn {
  providerSessionUid: string;
  clientId: string;
  sid: string;
  sessionIdHash: string;
  userId: string;
  organizationId: string | null;
  method: SignInMethod;
  connectionId: string | null;
  authTime: number;
  expiresAt: number;
}

/** Records (or moves to a newer Gatehouse session) one application's sign-in. */
export async function upsertApplicationSignIn(
  db: Kysely<Database>,
  signIn: ApplicationSignIn,
  now: number,
): Promise<void> {
  const row = {
    sid: signIn.sid,
    session_id_hash: signIn.sessionIdHash,
    user_id: signIn.userId,
    organization_id: signIn.organizationId,
    method: signIn.method,
    connection_id: signIn.connectionId,
    auth_time: signIn.authTime,
    expires_at: signIn.expiresAt,
  };
  await db
    .insertInto("application_sign_ins")
    .values({
      provider_session_uid: signIn.providerSessionUid,
      client_id: signIn.clientId,
      created_at: now,
      ...row,
    })
    .onConflict((oc) => oc.columns(["provider_session_uid", "client_id"]).doUpdateSet(row))
    .execute();
}

export async function findApplicationSignIn(
  db: Kysely<Database>,
  providerSessionUid: string,
  clientId: string,
): Promise<ApplicationSignIn | undefined> {
  return db
    .selectFrom("application_sign_ins")
    .select([
      "provider_session_uid as providerSessionUid",
      "client_id as clientId",
      "sid",
      "session_id_hash as sessionIdHash",
      "user_id as userId",
      "organization_id as organizationId",
      "method",
      "connection_id as connectionId",
      "auth_time as authTime",
      "expires_at as expiresAt",
    ])
    .where("provider_session_uid", "=", providerSessionUid)
    .where("client_id", "=", clientId)
    .executeTakeFirst();
}

/**
 * Queues a logout token for every application signed in through the given Gatehouse sessions
 * that registered a back-channel logout URI. Called in the transaction that ends the sessions,
 * so an ended session and its notifications are written together or not at all.
 */
export async function enqueueBackchannelLogouts(
  db: Kysely<Database>,
  sessionIdHashes: readonly string[],
  now: number,
  newId: () => string,
): Promise<number> {
  if (sessionIdHashes.length === 0) return 0;
  let queued = 0;
  // Bounded chunks keep the parameter count inside both databases' limits.
  for (let i = 0; i < sessionIdHashes.length; i += 500) {
    const chunk = sessionIdHashes.slice(i, i + 500);
    const targets = await db
      .selectFrom("application_sign_ins")
      .innerJoin("applications", "applications.client_id", "application_sign_ins.client_id")
      .select(["application_sign_ins.client_id as clientId", "application_sign_ins.user_id as sub", "sid"])
      .where("application_sign_ins.session_id_hash", "in", chunk)
      .where("applications.backchannel_logout_uri", "is not", null)
      .execute();
    if (targets.length === 0) continue;
    await db
      .insertInto("backchannel_logouts")
      .values(
        targets.map((t) => ({
          id: newId(),
          client_id: t.clientId,
          sub: t.sub,
          sid: t.sid,
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          created_at: now,
        })),
      )
      .execute();
    queued += targets.length;
  }
  return queued;
}

export async function deleteExpiredApplicationSignIns(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db
    .deleteFrom("application_sign_ins")
    .where("expires_at", "<=", now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface PendingLogout {
  id: string;
  clientId: string;
  sub: string;
  sid: string;
  attempts: number;
  nextAttemptAt: number;
}

/**
 * Claims up to `limit` due logout tokens for delivery: each claimed row's next attempt moves
 * `leaseMs` ahead, so another instance polling at the same time skips it.
 */
export async function claimDueBackchannelLogouts(
  db: Kysely<Database>,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<PendingLogout[]> {
  const due = await db
    .selectFrom("backchannel_logouts")
    .select(["id", "client_id as clientId", "sub", "sid", "attempts", "next_attempt_at as nextAttemptAt"])
    .where("next_attempt_at", "<=", now)
    .orderBy("next_attempt_at")
    .limit(limit)
    .execute();
  const claimed: PendingLogout[] = [];
  for (const row of due) {
    const result = await db
      .updateTable("backchannel_logouts")
      .set({ next_attempt_at: now + leaseMs })
      .where("id", "=", row.id)
      .where("next_attempt_at", "=", row.nextAttemptAt)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) claimed.push(row);
  }
  return claimed;
}

export async function deleteBackchannelLogout(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom("backchannel_logouts").where("id", "=", id).execute();
}

export async function rescheduleBackchannelLogout(
  db: Kysely<Database>,
  id: string,
  attempts: number,
  nextAttemptAt: number,
  lastError: string,
): Promise<void> {
  await db
    .updateTable("backchannel_logouts")
    .set({ attempts, next_attempt_at: nextAttemptAt, last_error: lastError.slice(0, 500) })
    .where("id", "=", id)
    .execute();
}
