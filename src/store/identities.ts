import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export async function findIdentity(db: Kysely<Database>, providerKey: string, subject: string) {
  return db
    .selectFrom("identities")
    .innerJoin("users", "users.id", "identities.user_id")
    .select(["identities.id as id", "identities.user_id as userId", "users.email as email"])
    .where("identities.provider_key", "=", providerKey)
    .where("identities.subject", "=", subject)
    .executeTakeFirst();
}

export async function insertIdentity(
  db: Kysely<Database>,
  input: {
    id: string;
    userId: string;
    providerKey: string;
    connectionId: string | null;
    subject: string;
    email: string | null;
  },
  now: number,
): Promise<void> {
  await db
    .insertInto("identities")
    .values({
      id: input.id,
      user_id: input.userId,
      provider_key: input.providerKey,
      connection_id: input.connectionId,
      subject: input.subject,
      email: input.email,
      created_at: now,
      last_sign_in_at: now,
    })
    .execute();
}

export async function touchIdentity(
  db: Kysely<Database>,
  id: string,
  email: string | null,
  now: number,
): Promise<void> {
  await db.updateTable("identities").set({ last_sign_in_at: now, email }).where("id", "=", id).execute();
}

/**
 * A returning user's identity with its user's email and the organizations the user belongs
 * to, in one query: the hot path of every repeat SSO sign-in.
 */
export async function findIdentityWithMemberships(
  db: Kysely<Database>,
  providerKey: string,
  subject: string,
): Promise<{ id: string; userId: string; userEmail: string; organizationIds: string[] } | undefined> {
  const rows = await db
    .selectFrom("identities")
    .innerJoin("users", "users.id", "identities.user_id")
    .leftJoin("memberships", "memberships.user_id", "identities.user_id")
    .select([
      "identities.id as id",
      "identities.user_id as userId",
      "users.email as userEmail",
      "memberships.organization_id as organizationId",
    ])
    .where("identities.provider_key", "=", providerKey)
    .where("identities.subject", "=", subject)
    .execute();
  const [first] = rows;
  if (!first) return undefined;
  return {
    id: first.id,
    userId: first.userId,
    userEmail: first.userEmail,
    organizationIds: rows.flatMap((r) => (r.organizationId ? [r.organizationId] : [])),
  };
}

/** The subject an account already has at a provider (one connection), if any. */
export async function findSubjectOfUser(
  db: Kysely<Database>,
  userId: string,
  providerKey: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("identities")
    .select("subject")
    .where("user_id", "=", userId)
    .where("provider_key", "=", providerKey)
    .executeTakeFirst();
  return row?.subject;
}
