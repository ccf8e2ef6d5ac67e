import { hashPassword, passwordWeakness } from "../crypto/password.js";
import { normalizeEmail } from "../domain/email.js";
import { GatehouseError, validationError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import {
  findOrganizationBySlug,
  insertMembership,
  insertOrganization,
  type Organization,
} from "../store/organizations.js";
import { findUserByEmail, insertUser, setPassword } from "../store/users.js";

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface NewOrganization {
  slug: string;
  name: string;
  adminEmail: string;
  adminPassword: string;
  adminName?: string | undefined;
}

/** Creates an organization and its owner in one transaction: both exist afterwards, or neither. */
export async function createOrganizationWithAdmin(
  ctx: AppContext,
  input: NewOrganization,
): Promise<{ organization: Organization; adminUserId: string }> {
  const fields: Record<string, string> = {};
  const slug = input.slug.trim().toLowerCase();
  const name = input.name.trim();
  const email = normalizeEmail(input.adminEmail);
  if (!SLUG.test(slug))
    fields.slug =
      "use 1-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit";
  if (!name || name.length > 100) fields.name = "must be 1-100 characters";
  if (!email) fields.adminEmail = `"${input.adminEmail}" is not a valid email address`;
  const weakness = passwordWeakness(input.adminPassword, email);
  if (weakness) fields.adminPassword = `the password ${weakness}`;
  if (Object.keys(fields).length > 0) throw validationError(fields);
  const validEmail = email as string;

  if (await findOrganizationBySlug(ctx.store.db, slug)) {
    throw new GatehouseError("CONFLICT", `An organization with the slug "${slug}" already exists.`, {
      fields: { slug: "is already taken" },
    });
  }
  if (await findUserByEmail(ctx.store.db, validEmail)) {
    throw new GatehouseError("CONFLICT", `A user with the email ${validEmail} already exists.`, {
      fields: { adminEmail: "already belongs to a user" },
    });
  }
  const hash = await hashPassword(input.adminPassword);
  const now = ctx.now();
  return ctx.store.db.transaction().execute(async (trx) => {
    const organization = await insertOrganization(trx, { slug, name }, now);
    const user = await insertUser(trx, { email: validEmail, name: input.adminName ?? null }, now);
    await setPassword(trx, user.id, hash, now);
    await insertMembership(trx, { organizationId: organization.id, userId: user.id, role: "owner" }, now);
    await insertAuditEvent(
      trx,
      {
        type: "organization.created",
        organizationId: organization.id,
        userId: user.id,
        outcome: "success",
        detail: { slug },
      },
      now,
    );
    return { organization, adminUserId: user.id };
  });
}
