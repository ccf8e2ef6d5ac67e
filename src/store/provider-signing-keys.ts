import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface StoredSigningKey {
  kid: string;
  alg: string;
  privateJwkSealed: string;
  createdAt: number;
  signsFrom: number;
}

export async function insertSigningKey(db: Kysely<Database>, key: StoredSigningKey): Promise<void> {
  await db
    .insertInto("provider_signing_keys")
    .values({
      kid: key.kid,
      alg: key.alg,
      private_jwk_sealed: key.privateJwkSealed,
      created_at: key.createdAt,
      signs_from: key.signsFrom,
      retired_at: null,
    })
    .execute();
}

/** The published keys, newest first. */
export async function listPublishedSigningKeys(db: Kysely<Database>): Promise<StoredSigningKey[]> {
  return db
    .selectFrom("provider_signing_keys")
    .select([
      "kid",
      "alg",
      "private_jwk_sealed as privateJwkSealed",
      "created_at as createdAt",
      "signs_from as signsFrom",
    ])
    .where("retired_at", "is", null)
    .orderBy("signs_from", "desc")
    .orderBy("created_at", "desc")
    .orderBy("kid")
    .execute();
}

export async function retireSigningKeys(
  db: Kysely<Database>,
  kids: readonly string[],
  now: number,
): Promise<void> {
  if (kids.length === 0) return;
  await db.updateTable("provider_signing_keys").set({ retired_at: now }).where("kid", "in", kids).execute();
}
