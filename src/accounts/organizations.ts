import { hashPassword, passwordWeakness } from "../crypto/password.js";
import { normalizeEmail } from "../domain/email.js";
import { NAME_CHARACTERS_MESSAGE, nameProblem } from "../domain/names.js";
import { GatehouseError, validationError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { isUniqueViolation } from "../store/availability.js";
import type { Invitation } from "../store/invitations.js";
import {
  findOrganizationBySlug,
  insertMembership,
  insertOrganization,
  type Organization,
} from "../store/organizations.js";
import { findUserByEmail, insertUser, setPassword } from "../store/users.js";
import { issueInvitation } from "./invitations.js";

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface NewOrganization {
  slug: string;
  name: string;
  adminEmail: string;
  /** Without one, the owner is invited: the answer carries a one-time setup link instead. */
  adminPassword?: string | undefined;
  adminName?: string | undefined;
}

export type CreatedOrganization =
  | { organization: Organization; adminUserId: string; setupLink?: undefined; invitation?: undefined }
  | { organization: Organization; adminUserId?: undefined; setupLink: string; invitation: Invitation };

/**
 * Creates an organization and its owner in one transaction: both exist afterwards, or neither.
 * With a password the owner's account is made now; without, the owner is invited by a setup
 * link, returned once.
 */
export async function createOrganizationWithAdmin(
  ctx: AppContext,
  input: NewOrganization & { adminPassword: string },
): Promise<{ organization: Organization; adminUserId: string }>;
export async function createOrganizationWithAdmin(
  ctx: AppContext,
  input: NewOrganization,
): Promise<CreatedOrganization>;
export async function createOrganizationWithAdmin(
  ctx: AppContext,
  input: NewOrganization,
): Promise<CreatedOrganization> {
  const fields: Record<string, string> = {};
  const slug = input.slug.trim().toLowerCase();
  const name = input.name.trim();
  const email = normalizeEmail(input.adminEmail);
  if (!SLUG.test(slug))
    fields.slug =
      "use 1-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit";
  if (!name || name.length > 100) fields.name = "must be 1-100 characters";
  else if (nameProblem(name)) fields.name = NAME_CHARACTERS_MESSAGE;
  if (!email) fields.adminEmail = `"${input.adminEmail}" is not a valid email address`;
  const password = input.adminPassword;
  if (password !== undefined) {
    const weakness = passwordWeakness(password, email);
    if (weakness) fields.adminPassword = `the password ${weakness}`;
  }
  if (Object.keys(fields).length > 0) throw validationError(fields);
  const validEmail = email as string;

  await refuseTaken(ctx, slug, validEmail);
  const hash = password === undefined ? undefined : await hashPassword(password);
  const now = ctx.now();
  try {
    return await insertOrganizationWithOwner(
      ctx,
      { slug, name, email: validEmail, hash, adminName: input.adminName },
      now,
    );
  } catch (error) {
    // Two creations at once both passed the checks above; the database kept one. The other is
    // told which value was taken, as if it had come second, rather than shown a constraint error.
    if (!isUniqueViolation(error)) throw error;
    await refuseTaken(ctx, slug, validEmail);
    throw new GatehouseError(
      "CONFLICT",
      "The organization could not be created: a value was taken meanwhile.",
      {
        cause: error,
      },
    );
  }
}

async function refuseTaken(ctx: AppContext, slug: string, email: string): Promise<void> {
  if (await findOrganizationBySlug(ctx.store.db, slug)) {
    throw new GatehouseError("CONFLICT", `An organization with the slug "${slug}" already exists.`, {
      fields: { slug: "is already taken" },
    });
  }
  if (await findUserByEmail(ctx.store.db, email)) {
    throw new GatehouseError("CONFLICT", `A user with the email ${email} already exists.`, {
      fields: { adminEmail: "already belongs to a user" },
    });
  }
}

function insertOrganizationWithOwner(
  ctx: AppContext,
  o: { slug: string; name: string; email: string; hash: string | undefined; adminName: string | undefined },
  now: number,
): Promise<CreatedOrganization> {
  const { slug, name, hash } = o;
  const validEmail = o.email;
  const input = { adminName: o.adminName };
  return ctx.store.db.transaction().execute(async (trx): Promise<CreatedOrganization> => {
    const organization = await insertOrganization(trx, { slug, name }, now);
    if (hash === undefined) {
      await insertAuditEvent(
        trx,
        {
          type: "organization.created",
          organizationId: organization.id,
          outcome: "success",
          detail: { slug, owner: "invited" },
        },
        now,
      );
      const { invitation, link } = await issueInvitation(
        trx,
        ctx,
        { organizationId: organization.id, email: validEmail, role: "owner", invitedByUserId: null },
        now,
      );
      return { organization, setupLink: link, invitation };
    }
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
