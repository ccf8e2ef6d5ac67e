import { type Kysely, sql } from "kysely";
import { newId } from "../crypto/tokens.js";
import type { Database, Role } from "./schema.js";

export interface Organization {
  id: string;
  slug: string;
  name: string;
  createdAt: number;
}

export async function insertOrganization(
  db: Kysely<Database>,
  input: { slug: string; name: string },
  now: number,
): Promise<Organization> {
  const org = { id: newId(), slug: input.slug, name: input.name, created_at: now };
  await db.insertInto("organizations").values(org).execute();
  return { id: org.id, slug: org.slug, name: org.name, createdAt: now };
}

export async function findOrganizationBySlug(
  db: Kysely<Database>,
  slug: string,
): Promise<Organization | undefined> {
  const row = await db.selectFrom("organizations").selectAll().where("slug", "=", slug).executeTakeFirst();
  return row && { id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at };
}

export async function findOrganizationById(
  db: Kysely<Database>,
  id: string,
): Promise<Organization | undefined> {
  const row = await db.selectFrom("organizations").selectAll().where("id", "=", id).executeTakeFirst();
  return row && { id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at };
}

/** Organizations in slug order, from just after `after`. */
export async function listOrganizations(
  db: Kysely<Database>,
  page: { limit: number; after?: string | undefined },
): Promise<Organization[]> {
  let query = db.selectFrom("organizations").selectAll().orderBy("slug").limit(page.limit);
  if (page.after !== undefined) query = query.where("slug", ">", page.after);
  const rows = await query.execute();
  return rows.map((row) => ({ id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at }));
}

export async function insertMembership(
  db: Kysely<Database>,
  input: { organizationId: string; userId: string; role: Role },
  now: number,
): Promise<void> {
  await db
    .insertInto("memberships")
    .values({
      organization_id: input.organizationId,
      user_id: input.userId,
      role: input.role,
      created_at: now,
      // The database keeps this copy in sync (migration 0024); giving it here spares SQLite
      // the trigger's correcting update.
      user_email: sql<string>`(select email from users where id = ${input.userId})`,
    })
    .execute();
}

export interface MembershipOfUser {
  organizationId: string;
  organizationName: string;
  organizationSlug: string;
  role: Role;
}

/** A user's first organization: Gatehouse users belong to one organization at a time. */
export async function findMembershipOfUser(
  db: Kysely<Database>,
  userId: string,
): Promise<MembershipOfUser | undefined> {
  const row = await db
    .selectFrom("memberships")
    .innerJoin("organizations", "organizations.id", "memberships.organization_id")
    .select([
      "memberships.organization_id as organizationId",
      "organizations.name as organizationName",
      "organizations.slug as organizationSlug",
      "memberships.role as role",
    ])
    .where("memberships.user_id", "=", userId)
    .orderBy("memberships.created_at")
    .executeTakeFirst();
  return row;
}
