import type { Kysely } from "kysely";
import { detachInteractionsFromSessions } from "./provider-records.js";
import type { Database } from "./schema.js";

/**
 * How far ending a Gatehouse session reaches into the applications signed in through it.
 *
 * - `session`: the person signed out (of Gatehouse, of an application, at their IdP). As
 *   oidc-provider's RP-initiated logout does: every code and token bound to the session ends;
 *   an offline_access grant, which the person gave for the application to act while they are
 *   away, stays with its refresh tokens.
 * - `all`: an administrator or a security event ended it (sign out everywhere, a person
 *   removed, a connection disabled or deleted, SSO enforced). Every grant given in the session
 *   ends, offline_access ones too.
 */
export type GrantRevocation = "session" | "all";

/** What oidc-provider keeps per application in its session record (`authorizations`). */
interface SessionAuthorization {
  grantId?: unknown;
  persistsLogout?: unknown;
}

/**
 * Ends the oidc-provider sessions with these uids and the grants given in them, in the
 * caller's transaction, so the database that records the Gatehouse sessions' end refuses their
 * codes and tokens at every instance from the same commit:
 *
 * - the session record goes: a code or token bound to its session (no offline_access) is then
 *   refused by oidc-provider, which looks the session up by uid at every use;
 * - a revoked grant's codes, access and refresh tokens go with the grant (what oidc-provider's
 *   `revokeByGrantId` does). The grants are the ones the session record names and, for `all`,
 *   every grant a stored code or token says was given in the session: an application's
 *   RP-initiated logout drops the session record but keeps offline_access grants.
 *
 * Returns how many grants ended.
 */
export async function revokeApplicationSessions(
  db: Kysely<Database>,
  providerSessionUids: readonly string[],
  revocation: GrantRevocation,
): Promise<number> {
  const uids = [...new Set(providerSessionUids)];
  let revoked = 0;
  // Bounded chunks keep the parameter count inside both databases' limits.
  for (let i = 0; i < uids.length; i += 500) {
    const chunk = uids.slice(i, i + 500);
    await detachInteractionsFromSessions(db, chunk);
    const grantIds = new Set<string>();
    const sessions = await db
      .selectFrom("provider_records")
      .select("payload")
      .where("model", "=", "Session")
      .where("uid", "in", chunk)
      .execute();
    for (const { payload } of sessions) {
      const authorizations = (
        JSON.parse(payload) as { authorizations?: Record<string, SessionAuthorization> }
      ).authorizations;
      for (const { grantId, persistsLogout } of Object.values(authorizations ?? {})) {
        // oidc-provider sets persistsLogout when the grant has offline_access.
        if (typeof grantId === "string" && (revocation === "all" || persistsLogout !== true)) {
          grantIds.add(grantId);
        }
      }
    }
    if (revocation === "all") {
      const issued = await db
        .selectFrom("provider_records")
        .select("grant_id")
        .distinct()
        .where("session_uid", "in", chunk)
        .where("grant_id", "is not", null)
        .execute();
      for (const { grant_id } of issued) if (grant_id !== null) grantIds.add(grant_id);
    }
    await db
      .deleteFrom("provider_records")
      .where("model", "=", "Session")
      .where("uid", "in", chunk)
      .execute();
    const grants = [...grantIds];
    for (let j = 0; j < grants.length; j += 500) {
      const some = grants.slice(j, j + 500);
      await db.deleteFrom("provider_records").where("grant_id", "in", some).execute();
      await db.deleteFrom("provider_records").where("model", "=", "Grant").where("id", "in", some).execute();
    }
    revoked += grants.length;
  }
  return revoked;
}
