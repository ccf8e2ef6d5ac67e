import { normalizeTenantId } from "../../domain/provider-claims.js";
import { validationError } from "../../errors.js";
import type { TokenEndpointAuthMethod } from "../../store/schema.js";

/**
 * An OpenID Connect connection's settings as the admin gives them: the provider's issuer and
 * the client registered there, and the advanced settings, each with a default that works for
 * Okta, Entra ID, Google, Auth0, Keycloak and Ping. The connection's name, domains and role
 * rules are any protocol's (src/connections/validate.ts).
 */
export interface OidcSettingsInput {
  issuer: string;
  clientId: string;
  /** Not needed with `private_key_jwt`. */
  clientSecret: string;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethodChoice | undefined;
  extraScopes?: string[] | undefined;
  emailClaim?: string | undefined;
  clockSkewSeconds?: number | undefined;
  /** Entra ID tenant ids a multi-tenant issuer (`/common`, `/organizations`) may sign in from. */
  allowedTenants?: string[] | undefined;
}

/** Normalized settings: trimmed, defaults filled in, scopes and tenants deduplicated. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethodChoice;
  extraScopes: string[];
  emailClaim: string;
  clockSkewSeconds: number;
  allowedTenants: string[];
}

export type OidcSettingsErrors = Partial<Record<keyof OidcSettingsInput, string>>;

/** `auto` picks client_secret_basic, or client_secret_post when the provider supports only that. */
export type TokenEndpointAuthMethodChoice = "auto" | TokenEndpointAuthMethod;
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethodChoice[] = [
  "auto",
  "client_secret_basic",
  "client_secret_post",
  "private_key_jwt",
];

export const DEFAULT_EMAIL_CLAIM = "email";
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
export const MAX_CLOCK_SKEW_SECONDS = 300;
// RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;
export const CLAIM_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;
const BASE_SCOPES = new Set(["openid", "email", "profile"]);

/**
 * The settings' field checks, which need no I/O (discovery comes after). Returns the normalized
 * settings and any per-field messages. An edit may leave the client secret blank to keep the
 * stored one (`secretRequired: false`).
 */
export function checkOidcSettings(
  input: OidcSettingsInput,
  options: { secretRequired?: boolean } = {},
): { value: OidcSettings; errors: OidcSettingsErrors } {
  const errors: OidcSettingsErrors = {};
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

  return {
    value: {
      issuer,
      clientId,
      clientSecret,
      tokenEndpointAuthMethod,
      extraScopes,
      emailClaim,
      clockSkewSeconds,
      allowedTenants,
    },
    errors,
  };
}

/**
 * Settings from anywhere (a JSON body, a form, a script): validated and normalized, or every
 * problem per field (VALIDATION_FAILED). A value of the wrong type is refused on its field,
 * never coerced into something the admin did not write.
 */
export function validateOidcSettings(input: unknown): OidcSettings {
  const raw = (input !== null && typeof input === "object" ? input : {}) as Record<string, unknown>;
  const typeErrors: OidcSettingsErrors = {};
  const text = (field: keyof OidcSettingsInput, required: boolean): string | undefined => {
    const value = raw[field];
    if (typeof value === "string") return value;
    if (value !== undefined) typeErrors[field] = "Must be text.";
    return required ? "" : undefined;
  };
  const list = (field: "extraScopes" | "allowedTenants"): string[] | undefined => {
    const value = raw[field];
    if (value === undefined) return undefined;
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
    typeErrors[field] = "Must be a list of text values.";
    return undefined;
  };
  const skew = raw.clockSkewSeconds;
  if (skew !== undefined && typeof skew !== "number") typeErrors.clockSkewSeconds = "Must be a number.";
  const method = text("tokenEndpointAuthMethod", false);
  const { value, errors } = checkOidcSettings({
    issuer: text("issuer", true) ?? "",
    clientId: text("clientId", true) ?? "",
    clientSecret: text("clientSecret", true) ?? "",
    tokenEndpointAuthMethod: method as TokenEndpointAuthMethodChoice | undefined,
    extraScopes: list("extraScopes"),
    emailClaim: text("emailClaim", false),
    clockSkewSeconds: typeof skew === "number" ? skew : undefined,
    allowedTenants: list("allowedTenants"),
  });
  const fields = { ...errors, ...typeErrors };
  if (Object.keys(fields).length > 0) throw validationError(fields as Record<string, string>);
  return value;
}
