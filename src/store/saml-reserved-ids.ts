import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/**
 * The id reserved for the organization's next SAML connection: the one already reserved, else
 * `candidate`, reserved now. Of two first loads at once (two admins, two instances) the first
 * insert wins and both read its id back, so everyone is shown the same URLs.
 */
export async function reserveSamlConnectionId(
  db: Kysely<Database>,
  organizationId: string,
  candidate: string,
  now: number,
): Promise<string> {
  const reserved = await findReservedSamlConnectionId(db, organizationId);
  if (reserved) return reserved;
  await db
    .insertInto("saml_reserved_connection_ids")
    .values({ organization_id: organizationId, connection_id: candidate, reserved_at: now })
    .onConflict((oc) => oc.column("organization_id").doNothing())
    .execute();
  const winner = await findReservedSamlConnectionId(db, organizationId);
  if (!winner) throw new Error(`no SAML connection id reserved for organization ${organizationId}`);
  return winner;
}

async function findReservedSamlConnectionId(
  db: Kysely<Database>,
  organizationId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("saml_reserved_connection_ids")
    .select("connection_id")
    .where("organization_id", "=", organizationId)
    .executeTakeFirst();
  return row?.connection_id;
}

/**
 * Uses up the organization's reservation of `connectionId` (Create, in its transaction); false
 * when it is not reserved for the organization (any more). Of two Creates racing with one id,
 * exactly one deletes the row.
 */
export async function useReservedSamlConnectionId(
  db: Kysely<Database>,
  organizationId: string,
  connectionId: string,
): Promise<boolean> {
  const deleted = await db
    .deleteFrom("saml_reserved_connection_ids")
    .where("organization_id", "=", organizationId)
    .where("connection_id", "=", connectionId)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows) === 1;
}
