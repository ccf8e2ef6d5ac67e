import { type Kysely, sql } from "kysely";
import { newId } from "../crypto/tokens.js";
import { type GrantRevocation, revokeApplicationSessions } from "./application-grants.js";
import { enqueueBackchannelLogouts, providerSessionsOf, type SignInMatch } from "./application-sign-ins.js";
import { inBatches } from "./batches.js";
import { prepared } from "./prepared.js";
import type { Database, Role, SignInMethod } from "./schema.js";

export interface NewSession {
  idHash: string;
  userId: string;
  organizationId: string | null;
  method: SignInMethod;
  connectionId: string | null;
  /** The ID token sealed with `sessionIdTokenContext(idHash)`. */
  idTokenSealed: string | null;
  idpSid: string | null;
  /** Another protocol's IdP session, as JSON sealed with `sessionIdpContext(idHash)`. */
  idpSessionSealed?: string | null;
  /**
   * Its sign-in asked for the person's credentials afresh: a password typed, or an IdP asked to
   * re-authenticate (OIDC `prompt=login`, SAML `ForceAuthn`). What an application's
   * `prompt=login` or `max_age` needs (src/provider/interaction.ts).
   */
  authenticatedAfresh?: boolean;
  createdAt: number;
  expiresAt: number;
}

/** The secret box context of a session's sealed ID token: it opens only for its own session. */
export function sessionIdTokenContext(idHash: string): string {
  return `session-id-token:${idHash}`;
}

/** The same for the IdP session of protocols other than OpenID Connect. */
export function sessionIdpContext(idHash: string): string {
  return `session-idp:${idHash}`;
}

type SessionRow = Required<Omit<NewSession, "authenticatedAfresh">> & { authenticatedAfresh: 0 | 1 };

const sessionInsert = prepared<SessionRow, unknown>(
  [
    "idHash",
    "userId",
    "organizationId",
    "method",
    "connectionId",
    "idTokenSealed",
    "idpSid",
    "idpSessionSealed",
    "authenticatedAfresh",
    "createdAt",
    "expiresAt",
  ],
  (db, s) =>
    db.insertInto("sessions").values({
      id_hash: s.idHash,
      user_id: s.userId,
      organization_id: s.organizationId,
      method: s.method,
      connection_id: s.connectionId,
      id_token_sealed: s.idTokenSealed,
      idp_sid: s.idpSid,
      idp_session_sealed: s.idpSessionSealed,
      authenticated_afresh: s.authenticatedAfresh,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
      revoked_at: null,
      last_seen_at: s.createdAt,
    }),
);

/** Every sign-in ends here (its SQL built once, see `prepared`). */
export async function insertSession(db: Kysely<Database>, s: NewSession): Promise<void> {
  await sessionInsert(db, {
    ...s,
    idpSessionSealed: s.idpSessionSealed ?? null,
    authenticatedAfresh: s.authenticatedAfresh ? 1 : 0,
  });
}

export interface ActiveSession {
  idHash: string;
  userId: string;
  email: string;
  name: string | null;
  /** As the identity provider last asserted them. */
  givenName?: string | null;
  familyName?: string | null;
  organizationId: string | null;
  organizationSlug: string | null;
  organizationName: string | null;
  role: Role | null;
  method: SignInMethod;
  connectionId: string | null;
  connectionName: string | null;
  createdAt: number;
  /** See `NewSession.authenticatedAfresh`. */
  authenticatedAfresh: boolean;
  expiresAt: number;
  /** When the session was last used, to within a minute: the idle timeout counts from here. */
  lastSeenAt: number;
}

/**
 * The session check: one indexed query that yields everything a request needs. It runs on
 * every authenticated request, so its SQL is built once (see `prepared`).
 */
type ActiveSessionRow = Omit<ActiveSession, "authenticatedAfresh"> & { authenticatedAfresh: number };

const activeSessionQuery = prepared<{ idHash: string; now: number }, ActiveSessionRow>(
  ["idHash", "now"],
  (db, { idHash, now }) =>
    db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .leftJoin("organizations", "organizations.id", "sessions.organization_id")
      .leftJoin("memberships", (join) =>
        join
          .onRef("memberships.user_id", "=", "sessions.user_id")
          .onRef("memberships.organization_id", "=", "sessions.organization_id"),
      )
      .leftJoin("connections", "connections.id", "sessions.connection_id")
      .select([
        "sessions.id_hash as idHash",
        "sessions.user_id as userId",
        "users.email as email",
        "users.name as name",
        "users.given_name as givenName",
        "users.family_name as familyName",
        "sessions.organization_id as organizationId",
        "organizations.slug as organizationSlug",
        "organizations.name as organizationName",
        "memberships.role as role",
        "sessions.method as method",
        "sessions.connection_id as connectionId",
        "connections.name as connectionName",
        "sessions.created_at as createdAt",
        "sessions.authenticated_afresh as authenticatedAfresh",
        "sessions.expires_at as expiresAt",
        // Sessions from before migration 0006 were given their creation time.
        sql<number>`coalesce(sessions.last_seen_at, sessions.created_at)`.as("lastSeenAt"),
      ])
      .where("sessions.id_hash", "=", idHash)
      .where("sessions.revoked_at", "is", null)
      .where("sessions.expires_at", ">", now),
);

export async function findActiveSession(
  db: Kysely<Database>,
  idHash: string,
  now: number,
): Promise<ActiveSession | undefined> {
  const { rows } = await activeSessionQuery(db, { idHash, now });
  const [row] = rows;
  return row && { ...row, authenticatedAfresh: row.authenticatedAfresh === 1 };
}

/**
 * Records a use of the session, if it is still live and was used within the idle timeout (used
 * at or after `idleCutoff`): the database decides, since another instance may have recorded a
 * later use than this one knows. True when the session is still live. Changes to
 * `last_seen_at` are not announced to session caches.
 */
export async function touchSession(
  db: Kysely<Database>,
  idHash: string,
  now: number,
  idleCutoff: number,
): Promise<boolean> {
  return (await touchSessions(db, [idHash], now, idleCutoff)).has(idHash);
}

/** `touchSession` for several sessions in one statement; yields the ones still live. */
export async function touchSessions(
  db: Kysely<Database>,
  idHashes: readonly string[],
  now: number,
  idleCutoff: number,
): Promise<Set<string>> {
  const rows = await db
    .updateTable("sessions")
    .set({ last_seen_at: now })
    .where("id_hash", "in", idHashes)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .where((eb) => eb(eb.fn.coalesce("last_seen_at", "created_at"), ">=", idleCutoff))
    .returning("id_hash")
    .execute();
  return new Set(rows.map((r) => r.id_hash));
}

/**
 * Ends a session and hands back what RP-initiated logout needs, once: of two concurrent
 * revocations only one gets the row. `returning` yields the values after the update, so the ID
 * token is read by the claiming update and erased by a second one.
 */
export async function revokeSession(
  db: Kysely<Database>,
  idHash: string,
  now: number,
  options: { replacedByUserId?: string } = {},
): Promise<
  | {
      connectionId: string | null;
      idTokenSealed: string | null;
      idpSessionSealed: string | null;
      userId: string;
    }
  | undefined
> {
  return inTransaction(db, async (trx) => {
    const claimed = await trx
      .updateTable("sessions")
      .set({ revoked_at: now })
      .where("id_hash", "=", idHash)
      .where("revoked_at", "is", null)
      .returning([
        "connection_id as connectionId",
        "id_token_sealed as idTokenSealed",
        "idp_session_sealed as idpSessionSealed",
        "user_id as userId",
      ])
      .executeTakeFirst();
    if (!claimed) return undefined;
    if (claimed.idTokenSealed !== null || claimed.idpSessionSealed !== null) {
      await trx
        .updateTable("sessions")
        .set({ id_token_sealed: null, idp_session_sealed: null })
        .where("id_hash", "=", idHash)
        .execute();
    }
    // The same person signing in again in this browser continues their application sign-ins.
    if (claimed.userId !== options.replacedByUserId)
      await endApplicationSignIns(trx, [idHash], now, "session");
    return claimed;
  });
}

/**
 * Every way a session ends reaches the applications signed in through it, in the transaction
 * that ends the sessions: their logout tokens are queued (Back-Channel Logout), and their codes
 * and tokens end with the session, offline_access grants too when `revocation` is `all`
 * (see `GrantRevocation`). An administrator's revocation also names `also`: the recorded
 * sign-ins of the same person, organization or connection whose session had already ended,
 * whose offline_access grants would otherwise outlive it.
 */
async function endApplicationSignIns(
  db: Kysely<Database>,
  idHashes: readonly string[],
  now: number,
  revocation: GrantRevocation,
  also?: SignInMatch,
): Promise<void> {
  await enqueueBackchannelLogouts(db, idHashes, now, newId);
  await revokeApplicationSessions(db, await providerSessionsOf(db, idHashes, also), revocation);
}

function inTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

export interface BulkRevocationOptions {
  /** A session to keep: the one asking, when it signs out its other sessions. */
  exceptIdHash?: string | undefined;
}

/** The application sign-in's column that records the same as the session's. */
const SIGN_IN_COLUMN = {
  connection_id: "connectionId",
  user_id: "userId",
  organization_id: "organizationId",
} as const satisfies Record<string, keyof SignInMatch>;

/**
 * The bulk revocations: every live session matching one column ends at `now`, with its ID
 * token erased (a revoked session never needs it again). Each returns how many sessions it
 * ended, so a caller can say so and concurrent callers count each session once.
 */
function revokeSessionsWhere(
  db: Kysely<Database>,
  column: "connection_id" | "user_id" | "organization_id",
  value: string,
  now: number,
  options: BulkRevocationOptions,
) {
  return inTransaction(db, async (trx) => {
    let query = trx
      .updateTable("sessions")
      .set({ revoked_at: now, id_token_sealed: null, idp_session_sealed: null })
      .where(column, "=", value)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now);
    if (options.exceptIdHash !== undefined) query = query.where("id_hash", "!=", options.exceptIdHash);
    const ended = await query.returning("id_hash").execute();
    const also = { [SIGN_IN_COLUMN[column]]: value, exceptSessionIdHash: options.exceptIdHash };
    await endApplicationSignIns(
      trx,
      ended.map((row) => row.id_hash),
      now,
      "all",
      also,
    );
    return ended.length;
  });
}

/**
 * Ends the sessions a connection issued. Deleting a connection calls it in the same transaction
 * before the row goes: the sessions' `connection_id` is set null on delete, after which nothing
 * could tell them apart.
 */
export function revokeSessionsForConnection(
  db: Kysely<Database>,
  connectionId: string,
  now: number,
  options: BulkRevocationOptions = {},
): Promise<number> {
  return revokeSessionsWhere(db, "connection_id", connectionId, now, options);
}

/** "Sign out everywhere" for one person: every session of the account, in every organization. */
export function revokeSessionsForUser(
  db: Kysely<Database>,
  userId: string,
  now: number,
  options: BulkRevocationOptions = {},
): Promise<number> {
  return revokeSessionsWhere(db, "user_id", userId, now, options);
}

/**
 * "Sign out everywhere" for one member, as their organization's admin may ask it: every session
 * of the account opened in that organization (and none it opened in another).
 */
export function revokeSessionsForMember(
  db: Kysely<Database>,
  organizationId: string,
  userId: string,
  now: number,
  options: BulkRevocationOptions = {},
): Promise<number> {
  return inTransaction(db, async (trx) => {
    let query = trx
      .updateTable("sessions")
      .set({ revoked_at: now, id_token_sealed: null, idp_session_sealed: null })
      .where("organization_id", "=", organizationId)
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now);
    if (options.exceptIdHash !== undefined) query = query.where("id_hash", "!=", options.exceptIdHash);
    const ended = await query.returning("id_hash").execute();
    await endApplicationSignIns(
      trx,
      ended.map((row) => row.id_hash),
      now,
      "all",
      { organizationId, userId, exceptSessionIdHash: options.exceptIdHash },
    );
    return ended.length;
  });
}

/** A live session one connection opened for one person, with its sealed IdP session. */
export interface ConnectionUserSession {
  idHash: string;
  /** Sealed with `sessionIdpContext(idHash)`; null for OpenID Connect and sessions without one. */
  idpSessionSealed: string | null;
}

/**
 * The live sessions one connection opened for one person, for an IdP's logout message to pick
 * the ones it names (their IdP session handles are sealed, so the caller opens and matches them).
 */
export async function listSessionsForConnectionUser(
  db: Kysely<Database>,
  connectionId: string,
  userId: string,
  now: number,
): Promise<ConnectionUserSession[]> {
  const rows = await db
    .selectFrom("sessions")
    .select(["id_hash", "idp_session_sealed"])
    .where("connection_id", "=", connectionId)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .execute();
  return rows.map((row) => ({ idHash: row.id_hash, idpSessionSealed: row.idp_session_sealed }));
}

/**
 * The sessions one connection opened for one person: what an IdP's single logout LogoutRequest
 * ends (src/sso/saml/single-logout.ts), all of them or, with `idHashes`, only those among them.
 * Applications signed in through them are told.
 */
export function revokeSessionsForConnectionUser(
  db: Kysely<Database>,
  connectionId: string,
  userId: string,
  now: number,
  options: { idHashes?: readonly string[] | undefined } = {},
): Promise<number> {
  const only = options.idHashes;
  if (only !== undefined && only.length === 0) return Promise.resolve(0);
  return inTransaction(db, async (trx) => {
    let query = trx
      .updateTable("sessions")
      .set({ revoked_at: now, id_token_sealed: null, idp_session_sealed: null })
      .where("connection_id", "=", connectionId)
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now);
    if (only !== undefined) query = query.where("id_hash", "in", only);
    const ended = await query.returning("id_hash").execute();
    // The person signed out at their IdP: what they signed out of themselves (GrantRevocation).
    await endApplicationSignIns(
      trx,
      ended.map((row) => row.id_hash),
      now,
      "session",
    );
    return ended.length;
  });
}

/** "Sign out everyone" for an organization: every session opened in it, whatever the method. */
export function revokeSessionsForOrganization(
  db: Kysely<Database>,
  organizationId: string,
  now: number,
  options: BulkRevocationOptions = {},
): Promise<number> {
  return revokeSessionsWhere(db, "organization_id", organizationId, now, options);
}

/**
 * Revokes the sessions that did not come through SSO for users whose email is at one of
 * `domains`; used when a connection starts enforcing SSO.
 */
export async function revokeNonSsoSessionsForDomains(
  db: Kysely<Database>,
  domains: readonly string[],
  exceptIdHash: string | undefined,
  now: number,
): Promise<number> {
  if (domains.length === 0) return 0;
  return inTransaction(db, async (trx) => {
    let query = trx
      .updateTable("sessions")
      .set({ revoked_at: now, id_token_sealed: null, idp_session_sealed: null })
      .where("revoked_at", "is", null)
      .where("method", "!=", "sso")
      .where("user_id", "in", (eb) =>
        eb
          .selectFrom("users")
          .select("users.id")
          .where((w) => w.or(domains.map((d) => emailAtDomain(d)))),
      );
    if (exceptIdHash) query = query.where("id_hash", "!=", exceptIdHash);
    const ended = await query.returning("id_hash").execute();
    await endApplicationSignIns(
      trx,
      ended.map((row) => row.id_hash),
      now,
      "all",
    );
    return ended.length;
  });
}

/**
 * Emails are stored lower-cased, and so is the pattern: SQLite's `like` ignores ASCII case and
 * PostgreSQL's does not. The escape character is spelled out because only PostgreSQL has a
 * default one.
 */
export function emailAtDomain(domain: string) {
  const pattern = `%@${domain.toLowerCase().replace(/[!%_]/g, "!$&")}`;
  return sql<boolean>`${sql.ref("users.email")} like ${pattern} escape '!'`;
}

/** Deletes expired sessions in batches (the `sessions_expires_idx` range), so sign-ins never wait long. */
export function deleteExpiredSessions(db: Kysely<Database>, now: number): Promise<number> {
  return inBatches(async (limit) => {
    const result = await db
      .deleteFrom("sessions")
      .where("id_hash", "in", (eb) =>
        eb.selectFrom("sessions").select("id_hash").where("expires_at", "<=", now).limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}

/** Live sessions a connection issued: what "sign out everyone" would end. */
export async function countSessionsForConnection(
  db: Kysely<Database>,
  connectionId: string,
  now: number,
): Promise<number> {
  const row = await db
    .selectFrom("sessions")
    .select((eb) => eb.fn.countAll<number | string>().as("count"))
    .where("connection_id", "=", connectionId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/**
 * Seals the ID tokens that sessions from before migration 0019 hold in clear, and empties the
 * old column; run at start-up right after migrating (a migration has no key). Revoked and
 * expired sessions need theirs no more: they are only emptied. Returns how many were sealed.
 */
export async function sealLegacyIdTokens(
  db: Kysely<Database>,
  seal: (idToken: string, context: string) => string,
  now: number,
): Promise<number> {
  const rows = await db
    .selectFrom("sessions")
    .select(["id_hash", "id_token", "revoked_at", "expires_at"])
    .where("id_token", "is not", null)
    .execute();
  let sealed = 0;
  for (const row of rows) {
    const live = row.revoked_at === null && row.expires_at > now && row.id_token !== null;
    await db
      .updateTable("sessions")
      .set({
        id_token: null,
        ...(live && row.id_token
          ? { id_token_sealed: seal(row.id_token, sessionIdTokenContext(row.id_hash)) }
          : {}),
      })
      .where("id_hash", "=", row.id_hash)
      .execute();
    if (live) sealed++;
  }
  return sealed;
}
