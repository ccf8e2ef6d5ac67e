import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export async function insertApiKey(
  db: Kysely<Database>,
  input: { id: string; organizationId: string; name: string; keyHash: string; prefix: string },
  now: number,
): Promise<void> {
  await db
    .insertInto("api_keys")
    .values({
      id: input.id,
      organization_id: input.organizationId,
      name: input.name,
      key_hash: input.keyHash,
      prefix: input.prefix,
      created_at: now,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
}

export async function findApiKeyByHash(db: Kysely<Database>, keyHash: string) {
  return db
    .selectFrom("api_keys")
    .innerJoin("organizations", "organizations.id", "api_keys.organization_id")
    .select([
      "api_keys.id as id",
      "api_keys.name as name",
      "api_keys.organization_id as organizationId",
      "organizations.slug as organizationSlug",
      "organizations.name as organizationName",
      "api_keys.last_used_at as lastUsedAt",
    ])
    .where("api_keys.key_hash", "=", keyHash)
    .where("api_keys.revoked_at", "is", null)
    .executeTakeFirst();
}

/** Records a use of the key; the condition keeps concurrent instances from rewriting it every request. */
export async function touchApiKey(
  db: Kysely<Database>,
  id: string,
  now: number,
  interval: number,
): Promise<void> {
  await db
    .updateTable("api_keys")
    .set({ last_used_at: now })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<=", now - interval)]))
    .execute();
}
