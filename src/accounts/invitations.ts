import type { Kysely } from "kysely";
import { urlFor } from "../config.js";
import { hashPassword, passwordWeakness } from "../crypto/password.js";
import { hashToken, newId, randomToken } from "../crypto/tokens.js";
import { emailDomain, normalizeEmail } from "../domain/email.js";
import { NAME_CHARACTERS_MESSAGE, nameProblem } from "../domain/names.js";
import { INVITATION_TTL_MS, type InvitationState, invitationState } from "../domain/people.js";
import { GatehouseError, validationError } from "../errors.js";
import { checkSsoEnforcement } from "../login/enforcement.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { findEnabledConnectionForDomain } from "../store/connections.js";
import {
  findInvitationByTokenHash,
  findPendingInvitationForEmail,
  type Invitation,
  insertInvitation,
  markInvitationAccepted,
  revokeOpenInvitations,
} from "../store/invitations.js";
import { findMembershipOfUser, insertMembership } from "../store/organizations.js";
import type { Database, Role } from "../store/schema.js";
import { findUserByEmail, insertUser, setPassword } from "../store/users.js";

/** The path of the page a setup link opens; the token travels in the query, which logs leave out. */
export const INVITATION_PATH = "/invitation";

export interface IssuedInvitation {
  invitation: Invitation;
  /** The one-time setup link. Returned once: only the token's hash is stored. */
  link: string;
}

function linkFor(ctx: AppContext, token: string): string {
  return urlFor(ctx.config, `${INVITATION_PATH}?token=${token}`);
}

/**
 * Who may be invited: an address with no account yet. An account that exists already signs in
 * as it is; a setup link must never reset someone's password.
 */
async function checkInvitee(db: Kysely<Database>, email: string, organizationId: string): Promise<void> {
  const user = await findUserByEmail(db, email);
  if (!user) return;
  const membership = await findMembershipOfUser(db, user.id);
  throw new GatehouseError(
    "CONFLICT",
    membership?.organizationId === organizationId
      ? `${email} is already a member of this organization.`
      : `${email} already has a Gatehouse account.`,
    {
      fields: {
        email:
          membership?.organizationId === organizationId ? "is already a member" : "already has an account",
      },
    },
  );
}

/**
 * Writes an invitation in the caller's transaction and returns its link. 256 bits from the
 * CSPRNG; stored as SHA-256, so a copy of the database opens no link. Earlier open invitations
 * for the same address are revoked: the newest link is the only one that works.
 */
export async function issueInvitation(
  trx: Kysely<Database>,
  ctx: AppContext,
  input: {
    organizationId: string;
    email: string;
    role: Role;
    invitedByUserId: string | null;
    resent?: boolean;
  },
  now: number,
): Promise<IssuedInvitation> {
  const replaced = await revokeOpenInvitations(trx, input.organizationId, { email: input.email }, now);
  for (const old of replaced) {
    await insertAuditEvent(
      trx,
      {
        type: "invitation.revoked",
        organizationId: input.organizationId,
        actorUserId: input.invitedByUserId,
        email: old.email,
        outcome: "success",
        detail: { invitationId: old.id, reason: "replaced" },
      },
      now,
    );
  }
  const token = randomToken(32);
  const id = newId();
  const expiresAt = now + INVITATION_TTL_MS;
  await insertInvitation(
    trx,
    {
      id,
      organizationId: input.organizationId,
      email: input.email,
      role: input.role,
      tokenHash: hashToken(token),
      invitedByUserId: input.invitedByUserId,
      expiresAt,
    },
    now,
  );
  await insertAuditEvent(
    trx,
    {
      type: "invitation.created",
      organizationId: input.organizationId,
      actorUserId: input.invitedByUserId,
      email: input.email,
      outcome: "success",
      detail: {
        invitationId: id,
        role: input.role,
        expiresAt: new Date(expiresAt).toISOString(),
        resent: input.resent === true,
      },
    },
    now,
  );
  return {
    invitation: {
      id,
      organizationId: input.organizationId,
      email: input.email,
      role: input.role,
      invitedByUserId: input.invitedByUserId,
      createdAt: now,
      expiresAt,
      acceptedAt: null,
      revokedAt: null,
    },
    link: linkFor(ctx, token),
  };
}

/** Invites a person to an organization as admin or member. */
export async function createInvitation(
  ctx: AppContext,
  input: { organizationId: string; email: string; role: Role; invitedByUserId: string | null },
): Promise<IssuedInvitation> {
  const email = normalizeEmail(input.email);
  if (!email) throw validationError({ email: `"${input.email}" is not a valid email address` });
  await checkInvitee(ctx.store.db, email, input.organizationId);
  const now = ctx.now();
  return ctx.store.db.transaction().execute((trx) => issueInvitation(trx, ctx, { ...input, email }, now));
}

/** "Resend": a new link for the same address and role; the old link stops working. */
export async function resendInvitation(
  ctx: AppContext,
  organizationId: string,
  invitation: Invitation,
  actorUserId: string | null,
): Promise<IssuedInvitation> {
  await checkInvitee(ctx.store.db, invitation.email, organizationId);
  const now = ctx.now();
  return ctx.store.db.transaction().execute((trx) =>
    issueInvitation(
      trx,
      ctx,
      {
        organizationId,
        email: invitation.email,
        role: invitation.role,
        invitedByUserId: actorUserId,
        resent: true,
      },
      now,
    ),
  );
}

export async function revokeInvitation(
  ctx: AppContext,
  organizationId: string,
  id: string,
  actorUserId: string | null,
): Promise<Invitation> {
  const now = ctx.now();
  return ctx.store.db.transaction().execute(async (trx) => {
    const [revoked] = await revokeOpenInvitations(trx, organizationId, { id }, now);
    if (!revoked) throw new GatehouseError("NOT_FOUND", "No such open invitation.");
    await insertAuditEvent(
      trx,
      {
        type: "invitation.revoked",
        organizationId,
        actorUserId,
        email: revoked.email,
        outcome: "success",
        detail: { invitationId: revoked.id, reason: "revoked" },
      },
      now,
    );
    return revoked;
  });
}

export interface OpenedInvitation {
  invitation: Invitation & { organizationName: string; organizationSlug: string };
  state: InvitationState;
  /** Set when the invitee's domain signs in through an enabled SSO connection: the link leads there. */
  sso: boolean;
}

/** What a setup link opens; undefined for a token that matches no invitation. */
export async function openInvitation(ctx: AppContext, token: string): Promise<OpenedInvitation | undefined> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
  const invitation = await findInvitationByTokenHash(ctx.store.db, hashToken(token));
  if (!invitation) return undefined;
  const now = ctx.now();
  const connection = await findEnabledConnectionForDomain(ctx.store.db, emailDomain(invitation.email), now);
  return {
    invitation,
    state: invitationState(invitation, now),
    sso: connection !== undefined && connection.organizationId === invitation.organizationId,
  };
}

const refusals: Record<Exclude<InvitationState, "pending">, GatehouseError> = {
  expired: new GatehouseError("INVITATION_EXPIRED", "This setup link has expired."),
  accepted: new GatehouseError("INVITATION_USED", "This setup link was already used."),
  revoked: new GatehouseError("INVITATION_REVOKED", "This setup link was withdrawn."),
};

/** Why an opened invitation cannot be accepted, as the error its page shows. */
export function invitationRefusal(state: InvitationState): GatehouseError | undefined {
  return state === "pending" ? undefined : refusals[state];
}

/**
 * Accepts a setup link with a new password: the account, its password, its membership, the
 * used mark and the audit record in one transaction. The conditional update is what makes the
 * link single-use, even with two tabs submitting at once.
 */
export async function acceptInvitationWithPassword(
  ctx: AppContext,
  token: string,
  input: { password: string; name?: string | undefined; ip?: string | undefined },
): Promise<{ userId: string; organizationId: string }> {
  const opened = await openInvitation(ctx, token);
  if (!opened) throw new GatehouseError("INVITATION_NOT_FOUND", "This setup link is not valid.");
  const refusal = invitationRefusal(opened.state);
  if (refusal) throw refusal;
  const { invitation } = opened;
  // A domain that signs in through SSO takes no passwords, invited or not.
  const enforcement = await checkSsoEnforcement(ctx, invitation.email, "password");
  if (!enforcement.allowed) {
    throw new GatehouseError("AUTH_SSO_REQUIRED", "Your organization signs you in through single sign-on.");
  }
  const name = input.name?.trim() ?? "";
  const fields: Record<string, string> = {};
  if (name.length > 100) fields.name = "must be at most 100 characters";
  else if (nameProblem(name)) fields.name = NAME_CHARACTERS_MESSAGE;
  const weakness = passwordWeakness(input.password, invitation.email);
  if (weakness) fields.password = `the password ${weakness}`;
  if (Object.keys(fields).length > 0) throw validationError(fields);

  const hash = await hashPassword(input.password);
  const now = ctx.now();
  return ctx.store.db.transaction().execute(async (trx) => {
    if (!(await markInvitationAccepted(trx, invitation.id, now))) {
      throw new GatehouseError("INVITATION_USED", "This setup link was already used.");
    }
    if (await findUserByEmail(trx, invitation.email)) {
      throw new GatehouseError("CONFLICT", `${invitation.email} already has a Gatehouse account.`);
    }
    const user = await insertUser(trx, { email: invitation.email, name: name || null }, now);
    await setPassword(trx, user.id, hash, now);
    await insertMembership(
      trx,
      { organizationId: invitation.organizationId, userId: user.id, role: invitation.role },
      now,
    );
    await insertAuditEvent(
      trx,
      {
        type: "invitation.accepted",
        organizationId: invitation.organizationId,
        userId: user.id,
        email: invitation.email,
        outcome: "success",
        detail: { invitationId: invitation.id, role: invitation.role, method: "password" },
        ip: input.ip ?? null,
      },
      now,
    );
    return { userId: user.id, organizationId: invitation.organizationId };
  });
}

/**
 * SSO binds an invitation to the identity whose email matches: the first sign-in of an invited
 * address through its organization's connection uses the invitation and takes its role. Called
 * in the sign-in's transaction, after provisioning; the connection may only assert emails of
 * its organization's verified domains, so the match proves the address.
 */
export async function acceptInvitationOnSsoSignIn(
  trx: Kysely<Database>,
  input: { organizationId: string; userId: string; email: string; connectionId: string | null },
  now: number,
): Promise<void> {
  const invitation = await findPendingInvitationForEmail(trx, input.organizationId, input.email, now);
  if (!invitation || !(await markInvitationAccepted(trx, invitation.id, now))) return;
  const membership = await findMembershipOfUser(trx, input.userId);
  // Only ever raises a fresh member to the role the admin chose; never lowers anyone.
  if (membership?.role === "member" && invitation.role !== "member") {
    await trx
      .updateTable("memberships")
      .set({ role: invitation.role })
      .where("organization_id", "=", input.organizationId)
      .where("user_id", "=", input.userId)
      .execute();
  }
  await insertAuditEvent(
    trx,
    {
      type: "invitation.accepted",
      organizationId: input.organizationId,
      userId: input.userId,
      connectionId: input.connectionId,
      email: input.email,
      outcome: "success",
      detail: { invitationId: invitation.id, role: invitation.role, method: "sso" },
    },
    now,
  );
}
