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
    // A sign-in recorded against a live session has not been logged out (again).
    logged_out_at: null,
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
 * so an ended session and its notifications are written together or not at all. A sign-in is
 * marked as it is queued: one logout token per sign-in, however many ways its session ends
 * (oidc-provider's own logout at an application's request, then Gatehouse's sign-out).
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
    const marked = await db
      .updateTable("application_sign_ins")
      .set({ logged_out_at: now })
      .where("session_id_hash", "in", chunk)
      .where("logged_out_at", "is", null)
      .returning(["client_id as clientId", "user_id as sub", "sid"])
      .execute();
    queued += await insertLogouts(db, marked, now, newId);
  }
  return queued;
}

/**
 * Queues the logout token of one application sign-in, named by what oidc-provider's own logout
 * knows (client and `sid`), unless it was queued already. A sid Gatehouse has no sign-in for
 * (its record expired) is queued as asked.
 */
export async function enqueueBackchannelLogout(
  db: Kysely<Database>,
  target: { clientId: string; sub: string; sid: string },
  now: number,
  newId: () => string,
): Promise<number> {
  const marked = await db
    .updateTable("application_sign_ins")
    .set({ logged_out_at: now })
    .where("client_id", "=", target.clientId)
    .where("sid", "=", target.sid)
    .where("logged_out_at", "is", null)
    .returning("sid")
    .execute();
  if (marked.length > 0) return insertLogouts(db, [target], now, newId);
  const known = await db
    .selectFrom("application_sign_ins")
    .select("sid")
    .where("client_id", "=", target.clientId)
    .where("sid", "=", target.sid)
    .executeTakeFirst();
  return known ? 0 : insertLogouts(db, [target], now, newId);
}

async function insertLogouts(
  db: Kysely<Database>,
  signIns: readonly { clientId: string; sub: string; sid: string }[],
  now: number,
  newId: () => string,
): Promise<number> {
  if (signIns.length === 0) return 0;
  const listening = await db
    .selectFrom("applications")
    .select("client_id")
    .where("client_id", "in", [...new Set(signIns.map((s) => s.clientId))])
    .where("backchannel_logout_uri", "is not", null)
    .execute();
  const clients = new Set(listening.map((row) => row.client_id));
  const targets = signIns.filter((s) => clients.has(s.clientId));
  if (targets.length === 0) return 0;
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
  return targets.length;
}

/** Which application sign-ins an administrator's revocation reaches beyond the sessions it ends. */
export interface SignInMatch {
  userId?: string;
  organizationId?: string;
  connectionId?: string;
  /** The session kept (the one asking), whose sign-ins stay. */
  exceptSessionIdHash?: string | undefined;
}

/**
 * The oidc-provider sessions applications signed in through: those of the given Gatehouse
 * sessions and, with `also`, every recorded sign-in matching it, including those whose
 * Gatehouse session ended earlier (an offline_access grant outlives its session).
 */
export async function providerSessionsOf(
  db: Kysely<Database>,
  sessionIdHashes: readonly string[],
  also?: SignInMatch,
): Promise<string[]> {
  const uids = new Set<string>();
  for (let i = 0; i < sessionIdHashes.length; i += 500) {
    const rows = await db
      .selectFrom("application_sign_ins")
      .select("provider_session_uid")
      .where("session_id_hash", "in", sessionIdHashes.slice(i, i + 500))
      .execute();
    for (const row of rows) uids.add(row.provider_session_uid);
  }
  if (also && (also.userId ?? also.organizationId ?? also.connectionId) !== undefined) {
    let query = db.selectFrom("application_sign_ins").select("provider_session_uid");
    if (also.userId !== undefined) query = query.where("user_id", "=", also.userId);
    if (also.organizationId !== undefined) query = query.where("organization_id", "=", also.organizationId);
    if (also.connectionId !== undefined) query = query.where("connection_id", "=", also.connectionId);
    if (also.exceptSessionIdHash !== undefined) {
      query = query.where("session_id_hash", "!=", also.exceptSessionIdHash);
    }
    for (const row of await query.execute()) uids.add(row.provider_session_uid);
    if (also.exceptSessionIdHash !== undefined) {
      // The kept session's browser keeps its oidc-provider session too.
      const kept = await db
        .selectFrom("application_sign_ins")
        .select("provider_session_uid")
        .where("session_id_hash", "=", also.exceptSessionIdHash)
        .execute();
      for (const row of kept) uids.delete(row.provider_session_uid);
    }
  }
  return [...uids];
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
