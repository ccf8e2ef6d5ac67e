import type { Kysely } from "kysely";
import { newId } from "../crypto/tokens.js";
import { type RoleDecision, roleChange } from "../domain/provider-roles.js";
import { GatehouseError } from "../errors.js";
import type { AuditInput } from "../store/audit.js";
import {
  findIdentity,
  findIdentityWithMemberships,
  findSubjectOfUser,
  insertIdentity,
  touchIdentity,
} from "../store/identities.js";
import { findMembershipOfUser, insertMembership } from "../store/organizations.js";
import type { Database, Role } from "../store/schema.js";
import { findUserByEmail, insertUser, updateUserEmail } from "../store/users.js";

export interface VerifiedIdentity {
  providerKey: string;
  connectionId: string | null;
  subject: string;
  email: string;
  /** False for an address from `upn` or `preferred_username`: it never links an existing account. */
  emailVerified?: boolean;
  name: string | null;
  givenName?: string | null;
  familyName?: string | null;
  /** What the connection's role rules make of the person's groups (src/domain/provider-roles.ts). */
  roles?: RoleDecision;
}

export interface ProvisionedUser {
  userId: string;
  organizationId: string | null;
  created: boolean;
  /** What provisioning did that the audit log records, for the caller to write with its own event. */
  audit: AuditInput[];
}

/**
 * Just-in-time provisioning for enterprise SSO, in the caller's transaction. Returning users
 * are found by (connection, sub), never by email alone, so an IdP that renames an address
 * cannot take over another account. A first sign-in links an existing account with the same
 * email in this organization, or creates the user as a member. Linking by email is safe only
 * because the callback has already refused any email outside the organization's verified domains
 * (`checkEmailDomain`, src/sign-in/policy.ts): a pending claim on a domain links nothing.
 * The audit events it returns belong in the same transaction.
 */
export async function provisionSsoUser(
  trx: Kysely<Database>,
  identity: VerifiedIdentity,
  organizationId: string,
  now: number,
): Promise<ProvisionedUser> {
  const known = await findIdentityWithMemberships(trx, identity.providerKey, identity.subject);
  if (known) {
    if (known.organizationIds.some((id) => id !== organizationId)) {
      throw new GatehouseError("SSO_USER_CONFLICT", "This account belongs to another organization.", {
        detail: `user ${known.userId} is a member of another organization`,
        check: {
          check: "account",
          expected: "a member of this organization",
          received: "another organization",
        },
      });
    }
    await touchIdentity(trx, known.id, identity.email, now);
    await followNames(trx, known.userId, identity, known.userNames);
    const audit =
      known.userEmail === identity.email
        ? []
        : [await followEmailChange(trx, known.userId, known.userEmail, identity, organizationId)];
    if (known.organizationIds.length === 0) {
      await insertMembership(trx, { organizationId, userId: known.userId, role: newUserRole(identity) }, now);
    } else {
      const role = known.memberships.find((m) => m.organizationId === organizationId)?.role;
      audit.push(...(await followRole(trx, known.userId, identity, organizationId, role)));
    }
    return { userId: known.userId, organizationId, created: false, audit };
  }

  const existing = await findUserByEmail(trx, identity.email);
  if (existing) {
    // Linking by email trusts the address; one the provider never verified (a `upn`, a
    // `preferred_username`, Entra's `email` without `xms_edov`) could name anyone's account.
    if (identity.emailVerified === false) {
      throw new GatehouseError(
        "SSO_EMAIL_UNVERIFIED",
        "Your identity provider did not verify this email address, and an account already uses it.",
        {
          detail: `${identity.email} came from an unverified claim; not linked to the existing account ${existing.id}`,
          check: {
            check: "account",
            expected: "a verified address to link by",
            received: "an unverified claim",
          },
        },
      );
    }
    // An address the IdP gave to someone new (a reassigned mailbox) must not open the previous
    // holder's account: one account has one subject per connection.
    const linked = await findSubjectOfUser(trx, existing.id, identity.providerKey);
    if (linked !== undefined && linked !== identity.subject) {
      throw new GatehouseError(
        "SSO_USER_CONFLICT",
        "This email belongs to an account that signs in as another person at your identity provider.",
        {
          detail: `${identity.email} is linked to another subject of this connection; new subject ${identity.subject}`,
          check: {
            check: "account",
            expected: "the subject the address is linked to",
            received: `subject ${identity.subject}`,
          },
        },
      );
    }
    const membership = await findMembershipOfUser(trx, existing.id);
    if (membership && membership.organizationId !== organizationId) {
      throw new GatehouseError(
        "SSO_USER_CONFLICT",
        "An account with this email belongs to another organization.",
        {
          detail: `${identity.email} is already a member of organization ${membership.organizationSlug}`,
          check: {
            check: "account",
            expected: "a member of this organization",
            received: "another organization",
          },
        },
      );
    }
    if (!membership)
      await insertMembership(trx, { organizationId, userId: existing.id, role: newUserRole(identity) }, now);
    await followNames(trx, existing.id, identity, existing);
    const roleAudit = membership
      ? await followRole(trx, existing.id, identity, organizationId, membership.role)
      : [];
    await insertIdentity(
      trx,
      {
        id: newId(),
        userId: existing.id,
        providerKey: identity.providerKey,
        connectionId: identity.connectionId,
        subject: identity.subject,
        email: identity.email,
      },
      now,
    );
    return { userId: existing.id, organizationId, created: false, audit: roleAudit };
  }

  const user = await insertUser(
    trx,
    {
      email: identity.email,
      name: identity.name,
      givenName: identity.givenName ?? null,
      familyName: identity.familyName ?? null,
    },
    now,
  );
  await insertMembership(trx, { organizationId, userId: user.id, role: newUserRole(identity) }, now);
  await insertIdentity(
    trx,
    {
      id: newId(),
      userId: user.id,
      providerKey: identity.providerKey,
      connectionId: identity.connectionId,
      subject: identity.subject,
      email: identity.email,
    },
    now,
  );
  const provisioned: AuditInput = {
    type: "user.provisioned",
    organizationId,
    userId: user.id,
    connectionId: identity.connectionId,
    email: identity.email,
    subject: identity.subject,
    outcome: "success",
  };
  return { userId: user.id, organizationId, created: true, audit: [provisioned] };
}

/** The claims roles are read from: the ID token's, over userinfo's when it was called. */
export function providerClaims(verified: {
  claims: object;
  userinfo?: object | undefined;
}): Record<string, unknown> {
  return { ...(verified.userinfo ?? {}), ...verified.claims } as Record<string, unknown>;
}

function newUserRole(identity: VerifiedIdentity): Role {
  return identity.roles?.roleForNewUser ?? "member";
}

/**
 * The names follow the provider, when it sends them; written only when one differs from what
 * the user row holds (`current`, read earlier in the same transaction), so a returning sign-in
 * with unchanged names writes nothing here.
 */
async function followNames(
  trx: Kysely<Database>,
  userId: string,
  identity: VerifiedIdentity,
  current: { name: string | null; givenName?: string | null; familyName?: string | null },
): Promise<void> {
  const names = {
    ...(identity.name && identity.name !== current.name ? { name: identity.name } : {}),
    ...(identity.givenName && identity.givenName !== current.givenName
      ? { given_name: identity.givenName }
      : {}),
    ...(identity.familyName && identity.familyName !== current.familyName
      ? { family_name: identity.familyName }
      : {}),
  };
  if (Object.keys(names).length > 0)
    await trx.updateTable("users").set(names).where("id", "=", userId).execute();
}

/**
 * With role rules, a member's role follows the provider at every sign-in (never an owner's,
 * never to owner: roleChange); the change is audited with the rule that decided it.
 */
async function followRole(
  trx: Kysely<Database>,
  userId: string,
  identity: VerifiedIdentity,
  organizationId: string,
  /** The user's role in this organization, read earlier in the same transaction. */
  role: Role | undefined,
): Promise<AuditInput[]> {
  if (!identity.roles || role === undefined) return [];
  const next = roleChange(role, identity.roles);
  if (!next) return [];
  await trx
    .updateTable("memberships")
    .set({ role: next })
    .where("organization_id", "=", organizationId)
    .where("user_id", "=", userId)
    .execute();
  return [
    {
      type: "user.role_changed",
      organizationId,
      userId,
      connectionId: identity.connectionId,
      email: identity.email,
      subject: identity.subject,
      outcome: "success",
      detail: {
        from: role,
        to: next,
        source: "identity_provider",
        rule: identity.roles.matched
          ? `${identity.roles.matched.group} = ${identity.roles.matched.role}`
          : null,
      },
    },
  ];
}

/**
 * A returning subject whose IdP now asserts another address (a rename): the account follows,
 * so that routing, enforcement and the admin's user list see the address the IdP manages. When
 * another account already holds the new address the account keeps its email and the change
 * is recorded for an admin to resolve; the two people are never merged.
 */
async function followEmailChange(
  trx: Kysely<Database>,
  userId: string,
  previous: string,
  identity: VerifiedIdentity,
  organizationId: string,
): Promise<AuditInput> {
  const holder = await findUserByEmail(trx, identity.email);
  if (!holder) await updateUserEmail(trx, userId, identity.email);
  return {
    type: holder ? "user.email_conflict" : "user.email_changed",
    organizationId,
    userId,
    connectionId: identity.connectionId,
    email: identity.email,
    subject: identity.subject,
    outcome: holder ? "failure" : "success",
    detail: holder ? { previous, asserted: identity.email, heldBy: holder.id } : { previous },
  };
}

/**
 * LinkedIn sign-in: returning users by (linkedin, sub); a verified email links an existing
 * account; otherwise a new account without an organization (an admin can invite it later).
 */
export async function provisionSocialUser(
  trx: Kysely<Database>,
  identity: VerifiedIdentity,
  now: number,
): Promise<ProvisionedUser> {
  const known = await findIdentity(trx, identity.providerKey, identity.subject);
  if (known) {
    await touchIdentity(trx, known.id, identity.email, now);
    const membership = await findMembershipOfUser(trx, known.userId);
    return {
      userId: known.userId,
      organizationId: membership?.organizationId ?? null,
      created: false,
      audit: [],
    };
  }
  const existing = await findUserByEmail(trx, identity.email);
  const user = existing ?? (await insertUser(trx, { email: identity.email, name: identity.name }, now));
  await insertIdentity(
    trx,
    {
      id: newId(),
      userId: user.id,
      providerKey: identity.providerKey,
      connectionId: null,
      subject: identity.subject,
      email: identity.email,
    },
    now,
  );
  const membership = existing ? await findMembershipOfUser(trx, user.id) : undefined;
  return {
    userId: user.id,
    organizationId: membership?.organizationId ?? null,
    created: !existing,
    audit: [],
  };
}
