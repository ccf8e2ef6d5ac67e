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

export interface ApiKeySummary {
  id: string;
  /** `organization` keys act for one organization; `operator` keys for the deployment. */
  scope: "organization" | "operator";
  organizationId: string | null;
  organizationSlug: string | null;
  name: string;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export async function insertOperatorApiKey(
  db: Kysely<Database>,
  input: { id: string; name: string; keyHash: string; prefix: string },
  now: number,
): Promise<void> {
  await db
    .insertInto("operator_api_keys")
    .values({
      id: input.id,
      name: input.name,
      key_hash: input.keyHash,
      prefix: input.prefix,
      created_at: now,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
}

/** Read on every request, never cached: a revoked key stops working on every instance at once. */
export async function findOperatorApiKeyByHash(db: Kysely<Database>, keyHash: string) {
  return db
    .selectFrom("operator_api_keys")
    .select(["id", "name", "last_used_at as lastUsedAt"])
    .where("key_hash", "=", keyHash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

export async function touchOperatorApiKey(
  db: Kysely<Database>,
  id: string,
  now: number,
  interval: number,
): Promise<void> {
  await db
    .updateTable("operator_api_keys")
    .set({ last_used_at: now })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<=", now - interval)]))
    .execute();
}

/** A page of keys, newest first: `limit` keys after the (created_at, id) key `after`. */
export interface KeyPage {
  limit: number;
  after?: readonly [number, string] | undefined;
}

/** An organization's keys, newest first, revoked ones included (with their revocation time). */
export async function listOrganizationApiKeys(
  db: Kysely<Database>,
  organizationId: string | null,
  page?: KeyPage,
): Promise<ApiKeySummary[]> {
  let query = db
    .selectFrom("api_keys")
    .innerJoin("organizations", "organizations.id", "api_keys.organization_id")
    .select([
      "api_keys.id as id",
      "api_keys.organization_id as organizationId",
      "organizations.slug as organizationSlug",
      "api_keys.name as name",
      "api_keys.prefix as prefix",
      "api_keys.created_at as createdAt",
      "api_keys.last_used_at as lastUsedAt",
      "api_keys.revoked_at as revokedAt",
    ])
    .orderBy("api_keys.created_at", "desc")
    .orderBy("api_keys.id");
  if (organizationId !== null) query = query.where("api_keys.organization_id", "=", organizationId);
  const after = page?.after;
  if (after)
    query = query.where((eb) =>
      eb.or([
        eb("api_keys.created_at", "<", after[0]),
        eb.and([eb("api_keys.created_at", "=", after[0]), eb("api_keys.id", ">", after[1])]),
      ]),
    );
  if (page) query = query.limit(page.limit);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, scope: "organization" as const }));
}

export async function listOperatorApiKeys(db: Kysely<Database>, page?: KeyPage): Promise<ApiKeySummary[]> {
  let query = db
    .selectFrom("operator_api_keys")
    .select([
      "id",
      "name",
      "prefix",
      "created_at as createdAt",
      "last_used_at as lastUsedAt",
      "revoked_at as revokedAt",
    ])
    .orderBy("created_at", "desc")
    .orderBy("id");
  const after = page?.after;
  if (after)
    query = query.where((eb) =>
      eb.or([
        eb("created_at", "<", after[0]),
        eb.and([eb("created_at", "=", after[0]), eb("id", ">", after[1])]),
      ]),
    );
  if (page) query = query.limit(page.limit);
  const rows = await query.execute();
  return rows.map((r) => ({
    ...r,
    scope: "operator" as const,
    organizationId: null,
    organizationSlug: null,
  }));
}

/**
 * Revokes a key by id. `organizationId` confines the search to one organization's keys (an
 * admin's request); null searches operator keys and every organization's (the operator's).
 * Returns the revoked key, or undefined when there is no such unrevoked key in reach.
 */
export async function revokeApiKey(
  db: Kysely<Database>,
  id: string,
  scope: { organizationId: string } | { operator: true },
  now: number,
): Promise<ApiKeySummary | undefined> {
  if ("operator" in scope) {
    const operatorKey = await db
      .updateTable("operator_api_keys")
      .set({ revoked_at: now })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .returning(["id", "name", "prefix", "created_at", "last_used_at"])
      .executeTakeFirst();
    if (operatorKey) {
      return {
        id: operatorKey.id,
        scope: "operator",
        organizationId: null,
        organizationSlug: null,
        name: operatorKey.name,
        prefix: operatorKey.prefix,
        createdAt: operatorKey.created_at,
        lastUsedAt: operatorKey.last_used_at,
        revokedAt: now,
      };
    }
  }
  let update = db
    .updateTable("api_keys")
    .set({ revoked_at: now })
    .where("id", "=", id)
    .where("revoked_at", "is", null);
  if ("organizationId" in scope) update = update.where("organization_id", "=", scope.organizationId);
  const key = await update
    .returning(["id", "organization_id", "name", "prefix", "created_at", "last_used_at"])
    .executeTakeFirst();
  if (!key) return undefined;
  return {
    id: key.id,
    scope: "organization",
    organizationId: key.organization_id,
    organizationSlug: null,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.created_at,
    lastUsedAt: key.last_used_at,
    revokedAt: now,
  };
}
