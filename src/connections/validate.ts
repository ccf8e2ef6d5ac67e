import { NAME_CHARACTERS_MESSAGE, nameProblem } from "../domain/names.js";
import { checkClaimableDomain, describeRefusal } from "../domain/organization-domains.js";
import { normalizeTenantId } from "../domain/provider-claims.js";
import {
  checkRoleRule,
  DEFAULT_GROUPS_CLAIM,
  DEFAULT_ROLE,
  PROVIDER_ROLES,
  type ProviderRole,
  type RoleRule,
} from "../domain/provider-roles.js";
import type { TokenEndpointAuthMethod } from "../store/schema.js";

/** What an admin or API client submits to create an OIDC connection. */
export interface ConnectionInput {
  name: string;
  issuer: string;
  clientId: string;
  /** Not needed with `private_key_jwt`. */
  clientSecret: string;
  domains: string[];
  /** Advanced settings; each has a default that works for Okta, Entra ID, Google, Auth0, Keycloak and Ping. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethodChoice | undefined;
  extraScopes?: string[] | undefined;
  emailClaim?: string | undefined;
  clockSkewSeconds?: number | undefined;
  /** Entra ID tenant ids a multi-tenant issuer (`/common`, `/organizations`) may sign in from. */
  allowedTenants?: string[] | undefined;
  /** Roles from the provider (src/domain/provider-roles.ts). */
  groupsClaim?: string | undefined;
  roleRules?: { group: string; role: string }[] | undefined;
  defaultRole?: string | undefined;
}

/** `auto` picks client_secret_basic, or client_secret_post when the provider supports only that. */
export type TokenEndpointAuthMethodChoice = "auto" | TokenEndpointAuthMethod;
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethodChoice[] = [
  "auto",
  "client_secret_basic",
  "client_secret_post",
  "private_key_jwt",
];

export interface ValidConnectionInput {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  domains: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethodChoice;
  extraScopes: string[];
  emailClaim: string;
  clockSkewSeconds: number;
  allowedTenants: string[];
  groupsClaim: string;
  roleRules: RoleRule[];
  defaultRole: ProviderRole;
}

export const DEFAULT_EMAIL_CLAIM = "email";
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
export const MAX_CLOCK_SKEW_SECONDS = 300;
// RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;
const CLAIM_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;
const BASE_SCOPES = new Set(["openid", "email", "profile"]);

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

  const issuer = input.issuer.trim();
  if (!issuer)
    errors.issuer = "Enter the Issuer URL from your identity provider, such as https://acme.okta.com.";
  else if (issuer.length > 500) errors.issuer = "Use at most 500 characters.";

  const clientId = input.clientId.trim();
  if (!clientId) errors.clientId = "Enter the Client ID from your identity provider's application.";
  else if (clientId.length > 500) errors.clientId = "Use at most 500 characters.";

  const tokenEndpointAuthMethod = input.tokenEndpointAuthMethod ?? "auto";
  if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(tokenEndpointAuthMethod)) {
    errors.tokenEndpointAuthMethod = `Choose one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(", ")}.`;
  }
  const clientSecret = input.clientSecret.trim();
  if (!clientSecret && tokenEndpointAuthMethod !== "private_key_jwt" && options.secretRequired !== false) {
    errors.clientSecret = "Enter the Client secret from your identity provider's application.";
  } else if (clientSecret.length > 2000) errors.clientSecret = "Use at most 2000 characters.";

  const { domains, error: domainsError } = checkConnectionDomains(input.domains);
  if (domainsError) errors.domains = domainsError;
  const extraScopes: string[] = [];
  for (const scope of input.extraScopes ?? []) {
    const trimmed = scope.trim();
    if (!trimmed || BASE_SCOPES.has(trimmed) || extraScopes.includes(trimmed)) continue;
    if (!SCOPE_TOKEN.test(trimmed)) {
      errors.extraScopes = `"${trimmed.slice(0, 100)}" is not a valid scope.`;
      break;
    }
    extraScopes.push(trimmed);
  }
  if (extraScopes.length > 20) errors.extraScopes = "Use at most 20 extra scopes.";

  const emailClaim = (input.emailClaim ?? "").trim() || DEFAULT_EMAIL_CLAIM;
  if (!CLAIM_NAME.test(emailClaim))
    errors.emailClaim = "Enter a claim name such as email, preferred_username or upn.";

  const clockSkewSeconds = input.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (
    !Number.isInteger(clockSkewSeconds) ||
    clockSkewSeconds < 0 ||
    clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS
  ) {
    errors.clockSkewSeconds = `Enter a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}.`;
  }

  const allowedTenants: string[] = [];
  const rawTenants = (input.allowedTenants ?? []).map((t) => t.trim()).filter(Boolean);
  if (rawTenants.length > 50) errors.allowedTenants = "Use at most 50 tenant ids.";
  else {
    for (const raw of rawTenants) {
      const tenant = normalizeTenantId(raw);
      if (!tenant) {
        errors.allowedTenants = `"${raw.slice(0, 100)}" is not a tenant id. Enter the Directory (tenant) ID, a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47.`;
        break;
      }
      if (!allowedTenants.includes(tenant)) allowedTenants.push(tenant);
    }
  }

  const groupsClaim = (input.groupsClaim ?? "").trim() || DEFAULT_GROUPS_CLAIM;
  if (!CLAIM_NAME.test(groupsClaim)) errors.groupsClaim = "Enter a claim name such as groups or roles.";
  const roles = checkRoles(input);
  Object.assign(errors, roles.errors);
  const { roleRules, defaultRole } = roles;
  return {
    value: {
      name,
      issuer,
      clientId,
      clientSecret,
      domains,
      tokenEndpointAuthMethod,
      extraScopes,
      emailClaim,
      clockSkewSeconds,
      allowedTenants,
      groupsClaim,
      roleRules,
      defaultRole,
    },
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
