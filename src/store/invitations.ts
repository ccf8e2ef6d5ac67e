import type { Kysely } from "kysely";
import type { Database, InvitationsTable, Role } from "./schema.js";

export interface Invitation {
  id: string;
  organizationId: string;
  email: string;
  role: Role;
  invitedByUserId: string | null;
  createdAt: number;
  expiresAt: number;
  acceptedAt: number | null;
  revokedAt: number | null;
}

function toInvitation(row: InvitationsTable): Invitation {
  return {
    id: row.id,
    organizationId: row.organization_id,
    email: row.email,
    role: row.role,
    invitedByUserId: row.invited_by_user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    revokedAt: row.revoked_at,
  };
}

export interface NewInvitation {
  id: string;
  organizationId: string;
  email: string;
  role: Role;
  /** SHA-256 of the link's token; the token itself is never stored. */
  tokenHash: string;
  invitedByUserId: string | null;
  expiresAt: number;
}

export async function insertInvitation(
  db: Kysely<Database>,
  input: NewInvitation,
  now: number,
): Promise<void> {
  await db
    .insertInto("invitations")
    .values({
      id: input.id,
      organization_id: input.organizationId,
      email: input.email.toLowerCase(),
      role: input.role,
      token_hash: input.tokenHash,
      invited_by_user_id: input.invitedByUserId,
      created_at: now,
      expires_at: input.expiresAt,
      accepted_at: null,
      revoked_at: null,
    })
    .execute();
}

/** The invitation a link's token opens, in any state: the page tells used from expired. */
export async function findInvitationByTokenHash(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<(Invitation & { organizationName: string; organizationSlug: string }) | undefined> {
  const row = await db
    .selectFrom("invitations")
    .innerJoin("organizations", "organizations.id", "invitations.organization_id")
    .selectAll("invitations")
    .select(["organizations.name as organization_name", "organizations.slug as organization_slug"])
    .where("invitations.token_hash", "=", tokenHash)
    .executeTakeFirst();
  return (
    row && {
      ...toInvitation(row),
      organizationName: row.organization_name,
      organizationSlug: row.organization_slug,
    }
  );
}

export async function findInvitation(
  db: Kysely<Database>,
  organizationId: string,
  id: string,
): Promise<Invitation | undefined> {
  const row = await db
    .selectFrom("invitations")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .executeTakeFirst();
  return row && toInvitation(row);
}

/** Invitations neither accepted nor revoked (expired ones included: an admin resends them). */
export async function listOpenInvitations(
  db: Kysely<Database>,
  organizationId: string,
): Promise<Invitation[]> {
  const rows = await db
    .selectFrom("invitations")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .execute();
  return rows.map(toInvitation);
}

/** The open, unexpired invitation for an address in an organization, if any. */
export async function findPendingInvitationForEmail(
  db: Kysely<Database>,
  organizationId: string,
  email: string,
  now: number,
): Promise<Invitation | undefined> {
  const row = await db
    .selectFrom("invitations")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("email", "=", email.toLowerCase())
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  return row && toInvitation(row);
}

/**
 * Marks the invitation used, only if it is still open and unexpired. The condition is the
 * single-use guarantee: of two acceptances racing, one updates the row and the other gets false.
 */
export async function markInvitationAccepted(
  db: Kysely<Database>,
  id: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("invitations")
    .set({ accepted_at: now })
    .where("id", "=", id)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Revokes open invitations: one by id, or every open one for an address. Returns those revoked. */
export async function revokeOpenInvitations(
  db: Kysely<Database>,
  organizationId: string,
  match: { id: string } | { email: string },
  now: number,
): Promise<Invitation[]> {
  let query = db
    .updateTable("invitations")
    .set({ revoked_at: now })
    .where("organization_id", "=", organizationId)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null);
  query =
    "id" in match ? query.where("id", "=", match.id) : query.where("email", "=", match.email.toLowerCase());
  const rows = await query.returningAll().execute();
  return rows.map(toInvitation);
}
