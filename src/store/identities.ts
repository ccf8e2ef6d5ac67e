import type { Kysely } from "kysely";
import { prepared } from "./prepared.js";
import type { Database, Role } from "./schema.js";

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

const identityTouch = prepared(
  ["id", "email", "now"],
  (db, { id, email, now }: { id: string; email: string | null; now: number }) =>
    db.updateTable("identities").set({ last_sign_in_at: now, email }).where("id", "=", id),
);

/** Every returning sign-in records its time and the address the provider asserted. */
export async function touchIdentity(
  db: Kysely<Database>,
  id: string,
  email: string | null,
  now: number,
): Promise<void> {
  await identityTouch(db, { id, email, now });
}

const identityWithMemberships = prepared(
  ["providerKey", "subject"],
  (db, { providerKey, subject }: { providerKey: string; subject: string }) =>
    db
      .selectFrom("identities")
      .innerJoin("users", "users.id", "identities.user_id")
      .leftJoin("memberships", "memberships.user_id", "identities.user_id")
      .select([
        "identities.id as id",
        "identities.user_id as userId",
        "users.email as userEmail",
        "users.name as name",
        "users.given_name as givenName",
        "users.family_name as familyName",
        "memberships.organization_id as organizationId",
        "memberships.role as role",
      ])
      .where("identities.provider_key", "=", providerKey)
      .where("identities.subject", "=", subject),
);

/**
 * A returning user's identity with its user's email and names and the organizations the user
 * belongs to (with the role in each), in one query: the hot path of every repeat SSO sign-in
 * (its SQL built once, see `prepared`).
 */
export async function findIdentityWithMemberships(
  db: Kysely<Database>,
  providerKey: string,
  subject: string,
): Promise<
  | {
      id: string;
      userId: string;
      userEmail: string;
      userNames: { name: string | null; givenName: string | null; familyName: string | null };
      organizationIds: string[];
      memberships: { organizationId: string; role: Role }[];
    }
  | undefined
> {
  const { rows } = await identityWithMemberships(db, { providerKey, subject });
  const [first] = rows;
  if (!first) return undefined;
  const memberships = rows.flatMap((r) =>
    r.organizationId && r.role ? [{ organizationId: r.organizationId, role: r.role }] : [],
  );
  return {
    id: first.id,
    userId: first.userId,
    userEmail: first.userEmail,
    userNames: { name: first.name, givenName: first.givenName, familyName: first.familyName },
    organizationIds: memberships.map((m) => m.organizationId),
    memberships,
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
