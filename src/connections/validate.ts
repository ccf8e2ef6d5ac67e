import { NAME_CHARACTERS_MESSAGE, nameProblem } from "../domain/names.js";
import { checkClaimableDomain, describeRefusal } from "../domain/organization-domains.js";
import {
  checkRoleRule,
  DEFAULT_GROUPS_CLAIM,
  DEFAULT_ROLE,
  PROVIDER_ROLES,
  type ProviderRole,
  type RoleRule,
} from "../domain/provider-roles.js";
import {
  CLAIM_NAME,
  checkOidcSettings,
  type OidcSettings,
  type OidcSettingsInput,
} from "../sso/oidc/settings.js";

/** What an admin or API client submits to create an OIDC connection. */
export interface ConnectionInput extends OidcSettingsInput {
  name: string;
  domains: string[];
  /** Roles from the provider (src/domain/provider-roles.ts). */
  groupsClaim?: string | undefined;
  roleRules?: { group: string; role: string }[] | undefined;
  defaultRole?: string | undefined;
}

export { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethodChoice } from "../sso/oidc/settings.js";

export interface ValidConnectionInput extends OidcSettings {
  name: string;
  domains: string[];
  groupsClaim: string;
  roleRules: RoleRule[];
  defaultRole: ProviderRole;
}

export type FieldErrors = Partial<Record<keyof ConnectionInput, string>>;

/** Every field of a connection, in the order forms and errors list them. */
export const CONNECTION_FIELDS: readonly (keyof ConnectionInput)[] = [
  "name",
  "issuer",
  "clientId",
  "clientSecret",
  "domains",
  "tokenEndpointAuthMethod",
  "extraScopes",
  "emailClaim",
  "clockSkewSeconds",
  "allowedTenants",
  "groupsClaim",
  "roleRules",
  "defaultRole",
];

/**
 * Field checks that need no I/O. Returns the cleaned input and any per-field messages. An edit
 * may leave the client secret blank to keep the stored one (`secretRequired: false`).
 */
export function validateConnectionInput(
  input: ConnectionInput,
  options: { secretRequired?: boolean } = {},
): {
  value: ValidConnectionInput;
  errors: FieldErrors;
} {
  const errors: FieldErrors = {};
  const name = input.name.trim();
  const nameError = checkConnectionName(name);
  if (nameError) errors.name = nameError;
  const settings = checkOidcSettings(input, options);
  Object.assign(errors, settings.errors);
  const { domains, error: domainsError } = checkConnectionDomains(input.domains);
  if (domainsError) errors.domains = domainsError;

  const groupsClaim = (input.groupsClaim ?? "").trim() || DEFAULT_GROUPS_CLAIM;
  if (!CLAIM_NAME.test(groupsClaim)) errors.groupsClaim = "Enter a claim name such as groups or roles.";
  const roles = checkRoles(input);
  Object.assign(errors, roles.errors);
  const { roleRules, defaultRole } = roles;
  return {
    value: { name, ...settings.value, domains, groupsClaim, roleRules, defaultRole },
    errors,
  };
}

/** Any protocol's connection name: unique across the deployment (checked with the store). */
export function checkConnectionName(name: string): string | undefined {
  if (!name) return "Enter a name for this connection, such as Acme Okta.";
  if (name.length > 100) return "Use at most 100 characters.";
  if (nameProblem(name)) return NAME_CHARACTERS_MESSAGE;
  return undefined;
}

/** Any protocol's domains, as typed; cleaned and deduplicated, or the first problem. */
export function checkConnectionDomains(input: readonly string[]): { domains: string[]; error?: string } {
  const domains: string[] = [];
  const rawDomains = input.map((d) => d.trim()).filter(Boolean);
  if (rawDomains.length === 0)
    return { domains, error: "Enter your company's email domain, such as acme.com." };
  if (rawDomains.length > 20) return { domains, error: "Use at most 20 domains." };
  for (const raw of rawDomains) {
    // The same refusals as adding a domain: a connection's new domains join the organization
    // as pending, so public suffixes and public email providers are refused here too.
    const claim = checkClaimableDomain(raw.replace(/^@/, ""));
    if (!claim.ok) return { domains, error: describeRefusal(raw.replace(/^@/, ""), claim.reason) };
    if (!domains.includes(claim.domain)) domains.push(claim.domain);
  }
  return { domains };
}

/** Any protocol's role rules and role for new users (src/domain/provider-roles.ts). */
export function checkRoles(input: {
  roleRules?: { group: string; role: string }[] | undefined;
  defaultRole?: string | undefined;
}): {
  roleRules: RoleRule[];
  defaultRole: ProviderRole;
  errors: Pick<FieldErrors, "roleRules" | "defaultRole">;
} {
  const errors: Pick<FieldErrors, "roleRules" | "defaultRole"> = {};
  const roleRules: RoleRule[] = [];
  const rawRules = input.roleRules ?? [];
  if (rawRules.length > 100) errors.roleRules = "Use at most 100 rules.";
  else {
    for (const raw of rawRules) {
      const checked = checkRoleRule(raw);
      if (typeof checked === "string") {
        errors.roleRules = checked;
        break;
      }
      if (!roleRules.some((r) => r.group === checked.group)) roleRules.push(checked);
    }
  }
  const defaultRole = (input.defaultRole ?? "").trim() || DEFAULT_ROLE;
  if (defaultRole === "owner") {
    errors.defaultRole = "The identity provider cannot make anyone an owner. Choose member or admin.";
  } else if (!(PROVIDER_ROLES as readonly string[]).includes(defaultRole)) {
    errors.defaultRole = "Choose member or admin.";
  }
  return { roleRules, defaultRole: defaultRole === "admin" ? "admin" : "member", errors };
}

/** The form field may hold several domains separated by commas, spaces or new lines. */
export function splitDomains(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((d) => d.trim())
    .filter(Boolean);
}
