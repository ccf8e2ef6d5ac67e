import type { Role } from "../store/schema.js";

/** A setup link is valid for 72 hours after it is made. */
export const INVITATION_TTL_MS = 72 * 60 * 60 * 1000;

export type InvitationState = "pending" | "expired" | "accepted" | "revoked";

/** What a link can still do: only a pending invitation may be accepted. */
export function invitationState(
  invitation: { expiresAt: number; acceptedAt: number | null; revokedAt: number | null },
  now: number,
): InvitationState {
  if (invitation.acceptedAt !== null) return "accepted";
  if (invitation.revokedAt !== null) return "revoked";
  if (now >= invitation.expiresAt) return "expired";
  return "pending";
}

/** The roles an organization admin hands out; owners are made only with the organization. */
export const ASSIGNABLE_ROLES = ["admin", "member"] as const satisfies readonly Role[];
export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

export function isAssignableRole(value: unknown): value is AssignableRole {
  return typeof value === "string" && (ASSIGNABLE_ROLES as readonly string[]).includes(value);
}

export type MembershipChange = { kind: "role"; role: AssignableRole } | { kind: "remove" };

export type MembershipDecision =
  | { allowed: true }
  | { allowed: false; reason: "LAST_OWNER" | "SELF" | "OWNER_BY_ADMIN" };

/**
 * May an admin change this member? An organization always keeps an owner: the last owner can be
 * neither demoted nor removed. Nobody changes or removes themselves here (an admin demoting
 * themselves locks themselves out of this page), and only owners change owners.
 */
export function decideMembershipChange(input: {
  actor: { userId: string | null; role: Role | null };
  target: { userId: string; role: Role };
  ownerCount: number;
  change: MembershipChange;
}): MembershipDecision {
  const { actor, target, ownerCount, change } = input;
  if (change.kind === "role" && change.role === target.role) return { allowed: true };
  if (actor.userId !== null && actor.userId === target.userId) return { allowed: false, reason: "SELF" };
  if (target.role === "owner") {
    if (ownerCount <= 1) return { allowed: false, reason: "LAST_OWNER" };
    // API keys (no user) act for the organization as its owners do.
    if (actor.userId !== null && actor.role !== "owner") return { allowed: false, reason: "OWNER_BY_ADMIN" };
  }
  return { allowed: true };
}
