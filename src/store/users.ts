import type { Kysely } from "kysely";
import { newId } from "../crypto/tokens.js";
import type { Database, Role, SignInMethod } from "./schema.js";
import { emailAtDomain } from "./sessions.js";

export interface User {
  id: string;
  email: string;
  name: string | null;
  createdAt: number;
}

function toUser(row: { id: string; email: string; name: string | null; created_at: number }): User {
  return { id: row.id, email: row.email, name: row.name, createdAt: row.created_at };
}

export async function insertUser(
  db: Kysely<Database>,
  input: {
    email: string;
    name?: string | null | undefined;
    givenName?: string | null | undefined;
    familyName?: string | null | undefined;
  },
  now: number,
): Promise<User> {
  const row = { id: newId(), email: input.email.toLowerCase(), name: input.name ?? null, created_at: now };
  await db
    .insertInto("users")
    .values({ ...row, given_name: input.givenName ?? null, family_name: input.familyName ?? null })
    .execute();
  return toUser(row);
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  const row = await db
    .selectFrom("users")
    .selectAll()
    .where("email", "=", email.toLowerCase())
    .executeTakeFirst();
  return row && toUser(row);
}

export async function updateUserEmail(db: Kysely<Database>, id: string, email: string): Promise<void> {
  await db.updateTable("users").set({ email: email.toLowerCase() }).where("id", "=", id).execute();
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  const row = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toUser(row);
}

/** Everything password sign-in needs, in one round trip. */
export async function findPasswordLogin(db: Kysely<Database>, email: string) {
  return db
    .selectFrom("users")
    .leftJoin("password_credentials", "password_credentials.user_id", "users.id")
    .leftJoin("memberships", "memberships.user_id", "users.id")
    .select([
      "users.id as userId",
      "users.email as email",
      "password_credentials.hash as passwordHash",
      "memberships.organization_id as organizationId",
    ])
    .where("users.email", "=", email.toLowerCase())
    .executeTakeFirst();
}

export async function setPassword(
  db: Kysely<Database>,
  userId: string,
  hash: string,
  now: number,
): Promise<void> {
  await db
    .insertInto("password_credentials")
    .values({ user_id: userId, hash, updated_at: now })
    .onConflict((oc) => oc.column("user_id").doUpdateSet({ hash, updated_at: now }))
    .execute();
}

export interface OrganizationUser {
  id: string;
  email: string;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  role: Role;
  createdAt: number;
  signInMethods: SignInMethod[];
  /** The latest session or identity sign-in still on record; null when none is. */
  lastSignInAt: number | null;
}

/**
 * By email; `page` reads `limit` users after the (email, id) key `after`. The order and the
 * cursor are the membership's copy of the email, so a page is one range of
 * `memberships_org_email_idx` whatever the organization's size.
 */
export async function listOrganizationUsers(
  db: Kysely<Database>,
  organizationId: string,
  page?: { limit: number; after?: readonly [string, string] | undefined },
): Promise<OrganizationUser[]> {
  let query = db
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .leftJoin("password_credentials", "password_credentials.user_id", "users.id")
    .select([
      "users.id as id",
      "users.email as email",
      "users.name as name",
      "users.given_name as givenName",
      "users.family_name as familyName",
      "users.created_at as createdAt",
      "memberships.role as role",
      "password_credentials.user_id as hasPassword",
    ])
    .where("memberships.organization_id", "=", organizationId)
    .orderBy("memberships.user_email")
    .orderBy("memberships.user_id");
  const after = page?.after;
  if (after)
    query = query.where((eb) =>
      eb(eb.refTuple("memberships.user_email", "memberships.user_id"), ">", eb.tuple(after[0], after[1])),
    );
  if (page) query = query.limit(page.limit);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const identities = await db
    .selectFrom("identities")
    .select(["user_id", "provider_key", "last_sign_in_at"])
    .where("user_id", "in", ids)
    .execute();
  const sessions = await db
    .selectFrom("sessions")
    .select((eb) => ["user_id", eb.fn.max("created_at").as("latest")])
    .where("user_id", "in", ids)
    .groupBy("user_id")
    .execute();
  const lastSignIn = new Map<string, number>();
  const note = (userId: string, at: number | null) => {
    if (at !== null && at > (lastSignIn.get(userId) ?? 0)) lastSignIn.set(userId, Number(at));
  };
  for (const s of sessions) note(s.user_id, Number(s.latest));
  for (const identity of identities) note(identity.user_id, identity.last_sign_in_at);
  return rows.map((r) => {
    const methods = new Set<SignInMethod>();
    if (r.hasPassword) methods.add("password");
    for (const identity of identities) {
      if (identity.user_id !== r.id) continue;
      methods.add(identity.provider_key === "linkedin" ? "linkedin" : "sso");
    }
    return {
      id: r.id,
      email: r.email,
      name: r.name,
      givenName: r.givenName,
      familyName: r.familyName,
      role: r.role,
      createdAt: r.createdAt,
      signInMethods: [...methods],
      lastSignInAt: lastSignIn.get(r.id) ?? null,
    };
  });
}

/** A member at some domains, and whether they hold a way in that needs no connection. */
export interface MemberAtDomains {
  userId: string;
  /** A password or a LinkedIn identity: what still signs them in without single sign-on. */
  hasPasswordOrLinkedIn: boolean;
}

/**
 * The organization's members whose email is at one of `domains`: the people a connection for
 * those domains signs in, and who are left with their password or LinkedIn, if any, without it.
 */
export async function listMembersAtDomains(
  db: Kysely<Database>,
  organizationId: string,
  domains: readonly string[],
): Promise<MemberAtDomains[]> {
  if (domains.length === 0) return [];
  const rows = await db
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .leftJoin("password_credentials", "password_credentials.user_id", "users.id")
    .select((eb) => [
      "users.id as userId",
      "password_credentials.user_id as passwordOf",
      eb
        .exists(
          eb
            .selectFrom("identities")
            .select("identities.user_id")
            .whereRef("identities.user_id", "=", "users.id")
            .where("identities.provider_key", "=", "linkedin"),
        )
        .as("hasLinkedIn"),
    ])
    .where("memberships.organization_id", "=", organizationId)
    .where((w) => w.or(domains.map((d) => emailAtDomain(d))))
    .execute();
  return rows.map((r) => ({
    userId: r.userId,
    // SQLite answers exists() with 0 or 1, PostgreSQL with a boolean.
    hasPasswordOrLinkedIn: r.passwordOf !== null || Boolean(Number(r.hasLinkedIn)),
  }));
}
