/**
 * Roles from the identity provider: a connection reads a groups claim and maps groups to
 * Gatehouse roles. Pure functions, tested with tables of cases
 * (test/foundation/provider-roles.test.ts).
 *
 * - A provider never makes anyone `owner`, and never changes an owner's role: ownership is
 *   Gatehouse's own, given and taken in Gatehouse.
 * - With rules, the role follows the provider at every sign-in: `admin` when a group maps to
 *   admin, else `member` when one maps to member, else the connection's default role.
 * - Without rules, the provider only decides the role of a new user (the default role); people
 *   promoted in Gatehouse keep their role.
 * - When the groups cannot be read (Entra ID's group overage), an existing user keeps their
 *   role and a new user gets the default role.
 */

export type ProviderRole = "admin" | "member";
export const PROVIDER_ROLES: readonly ProviderRole[] = ["admin", "member"];

export interface RoleRule {
  group: string;
  role: ProviderRole;
}

export interface RolePolicy {
  /** The claim holding the groups: `groups` for Okta, Entra ID, Keycloak and Auth0 (with a rule). */
  groupsClaim: string;
  rules: readonly RoleRule[];
  /** The role of a person the rules say nothing about (always, for a new user). */
  defaultRole: ProviderRole;
}

export const DEFAULT_GROUPS_CLAIM = "groups";
export const DEFAULT_ROLE: ProviderRole = "member";

/** What the token says about the person's groups. */
export type GroupsReading =
  | { kind: "groups"; groups: string[] }
  | { kind: "absent" }
  /**
   * Entra ID sends no groups when a person is in too many (over 200 in a JWT): `_claim_names`
   * points at the groups elsewhere, or `hasgroups: true` says only that there are some.
   */
  | { kind: "overage"; marker: "_claim_names" | "hasgroups" };

const MAX_GROUPS = 500;

export function readGroups(claims: Record<string, unknown>, groupsClaim: string): GroupsReading {
  const value = claims[groupsClaim];
  if (Array.isArray(value)) {
    return {
      kind: "groups",
      groups: value
        .filter((g): g is string => typeof g === "string")
        .slice(0, MAX_GROUPS)
        .map((g) => g.slice(0, 256)),
    };
  }
  if (typeof value === "string") return { kind: "groups", groups: [value.slice(0, 256)] };
  const names = claims._claim_names;
  if (names && typeof names === "object" && groupsClaim in names) {
    return { kind: "overage", marker: "_claim_names" };
  }
  if (claims.hasgroups === true || claims.hasgroups === "true")
    return { kind: "overage", marker: "hasgroups" };
  return { kind: "absent" };
}

export interface RoleDecision {
  /** The role a new user gets. */
  roleForNewUser: ProviderRole;
  /** The role an existing member gets, or null to keep theirs (no rules, or groups unreadable). */
  roleForMember: ProviderRole | null;
  /** The rule that decided, when one matched. */
  matched: RoleRule | null;
  reading: GroupsReading;
}

export function decideRole(policy: RolePolicy, claims: Record<string, unknown>): RoleDecision {
  const reading = readGroups(claims, policy.groupsClaim);
  const groups = reading.kind === "groups" ? reading.groups : [];
  const matches = policy.rules.filter((r) => groups.includes(r.group));
  const matched = matches.find((r) => r.role === "admin") ?? matches[0] ?? null;
  const role = matched?.role ?? policy.defaultRole;
  const managed = policy.rules.length > 0 && reading.kind !== "overage";
  return { roleForNewUser: role, roleForMember: managed ? role : null, matched, reading };
}

/** The role to set on an existing membership, or null to leave it: never an owner's. */
export function roleChange(current: string, decision: RoleDecision): ProviderRole | null {
  if (current === "owner") return null;
  const next = decision.roleForMember;
  return next !== null && next !== current ? next : null;
}

/**
 * The form's rules, one a line: `group = role` (the last `=` separates, so a group name may hold
 * one). A line without one is kept with no role, for the check to explain.
 */
export function splitRoleRules(text: string): { group: string; role: string }[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.lastIndexOf("=");
      return at < 0
        ? { group: line, role: "" }
        : {
            group: line.slice(0, at).trim(),
            role: line
              .slice(at + 1)
              .trim()
              .toLowerCase(),
          };
    });
}

/** The rules as the form shows them. */
export function formatRoleRules(rules: readonly RoleRule[]): string {
  return rules.map((r) => `${r.group} = ${r.role}`).join("\n");
}

/** One rule's checks, for the form and the API alike. */
export function checkRoleRule(rule: { group: string; role: string }): RoleRule | string {
  const group = rule.group.trim();
  if (!group || group.length > 256) return "Each rule needs a group name of at most 256 characters.";
  if (rule.role === "owner") {
    return `The identity provider cannot make anyone an owner ("${group.slice(0, 100)}" = owner). Owners are made in Gatehouse, under People.`;
  }
  if (!(PROVIDER_ROLES as readonly string[]).includes(rule.role)) {
    return `Give "${group.slice(0, 100)}" a role: write ${group.slice(0, 100)} = admin, or ${group.slice(0, 100)} = member.`;
  }
  return { group, role: rule.role as ProviderRole };
}
