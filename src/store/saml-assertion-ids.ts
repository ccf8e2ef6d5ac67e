import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/**
 * Every SAML assertion Gatehouse accepted, until it expires (SAML profiles 4.1.4.5: a bearer
 * assertion is used once). Kept in the database, not in memory, so that an assertion accepted
 * by one instance is refused by every other instance on the same database.
 *
 * The key is a hash of the issuer and the assertion's ID: IDs are unique per issuer only, and
 * an IdP chooses their length, so the stored key is of fixed size.
 */
export function assertionKey(issuer: string, assertionId: string): string {
  return createHash("sha256").update(issuer).update("\0").update(assertionId).digest("base64url");
}

/**
 * Remembers the assertion until `expiresAt`; false when it was already remembered (a replay).
 * One statement: of two instances racing with the same assertion, exactly one inserts it.
 */
export async function rememberAssertionId(
  db: Kysely<Database>,
  assertion: { issuer: string; assertionId: string; expiresAt: number },
): Promise<boolean> {
  const inserted = await db
    .insertInto("saml_assertion_ids")
    .values({ id: assertionKey(assertion.issuer, assertion.assertionId), expires_at: assertion.expiresAt })
    .onConflict((oc) => oc.column("id").doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** Assertions past expiry can no longer be replayed: every time check refuses them first. */
export async function purgeAssertionIds(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom("saml_assertion_ids").where("expires_at", "<", now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
