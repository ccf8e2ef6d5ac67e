/**
 * Rules on the claims that only some providers send, deciding whether a multi-tenant or
 * consumer-capable provider may sign this person in, and whether its email is verified.
 * Pure functions, unit-tested with tables of cases (test/foundation/provider-claims.test.ts).
 */

export const ENTRA_ORIGIN = "https://login.microsoftonline.com";
export const GOOGLE_ISSUER = "https://accounts.google.com";

/**
 * The `prompt` that makes a provider sign someone in afresh ("Sign in with another account").
 * OIDC Core's `login`, except at Google, which supports only `none`, `consent` and
 * `select_account` (its account chooser is what switching accounts needs there).
 */
export function reauthenticationPrompt(issuer: string): "login" | "select_account" {
  return issuer.replace(/\/$/, "") === GOOGLE_ISSUER ? "select_account" : "login";
}
/** Entra ID's tenant of personal Microsoft accounts (what `/consumers` signs in). */
export const ENTRA_CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";

const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A tenant id as Entra writes it in `tid`: a GUID, compared lower-cased. */
export function normalizeTenantId(input: string): string | undefined {
  const id = input.trim().toLowerCase();
  return TENANT_ID.test(id) ? id : undefined;
}

export interface ProviderClaimPolicy {
  /** The issuer the connection was created with. */
  issuer: string;
  /** Set when the issuer publishes a `{tenantid}` template (Entra's `/common`, `/organizations`). */
  issuerTemplate: string | undefined;
  allowedTenants: readonly string[];
  /** The claim the address is read from. */
  emailClaim: string;
  /** The connection's domains that its organization has verified. */
  activeDomains: readonly string[];
}

/** The claims these rules read, from the ID token. */
export interface ProviderClaims {
  tid?: unknown;
  xms_edov?: unknown;
  hd?: unknown;
}

export type ProviderClaimCheck =
  | { ok: true; emailVerified: boolean }
  | {
      ok: false;
      code: "SSO_TENANT_NOT_ALLOWED" | "SSO_EMAIL_UNVERIFIED" | "SSO_EMAIL_DOMAIN_NOT_ALLOWED";
      check: "tid" | "xms_edov" | "hd";
      expected: string;
      received: unknown;
    };

function isEntra(policy: ProviderClaimPolicy, claims: ProviderClaims): boolean {
  let origin: string | undefined;
  try {
    origin = new URL(policy.issuer).origin;
  } catch {
    origin = undefined;
  }
  return policy.issuerTemplate !== undefined || origin === ENTRA_ORIGIN || typeof claims.tid === "string";
}

function isTrue(value: unknown): boolean {
  return value === true || value === "true" || value === 1 || value === "1";
}

/**
 * In order:
 *  1. Tenant: a template issuer accepts a token from any tenant, the attacker's own and the
 *     consumer tenant included, so its `tid` must be on the connection's allow-list (an empty
 *     list signs no one in); a single-tenant connection with a list is held to it too.
 *  2. Email verification: an address read from any claim but `email` (`upn`,
 *     `preferred_username`, ...) is never a verified email; Entra's `email` claim is verified
 *     only with `xms_edov: true` (Entra sends unverified addresses of guest and consumer
 *     accounts in it, with no `email_verified`).
 *  3. Google: `hd`, the Workspace domain of the account, must be one of the connection's
 *     verified domains; consumer Google accounts have none.
 * An unverified address may sign in an account already linked to this subject or create one,
 * never link an existing account by email (src/sign-in/provision.ts).
 */
export function checkProviderClaims(policy: ProviderClaimPolicy, claims: ProviderClaims): ProviderClaimCheck {
  if (policy.issuerTemplate !== undefined || policy.allowedTenants.length > 0) {
    const tid = typeof claims.tid === "string" ? claims.tid.toLowerCase() : undefined;
    if (!tid || !policy.allowedTenants.includes(tid)) {
      return {
        ok: false,
        code: "SSO_TENANT_NOT_ALLOWED",
        check: "tid",
        expected:
          policy.allowedTenants.length > 0
            ? `one of ${policy.allowedTenants.join(", ")}`
            : "a tenant on the connection's allow-list (the list is empty)",
        received: claims.tid,
      };
    }
  }
  if (policy.issuer.replace(/\/$/, "") === GOOGLE_ISSUER) {
    const hd = typeof claims.hd === "string" ? claims.hd.toLowerCase() : undefined;
    if (!hd || !policy.activeDomains.includes(hd)) {
      return {
        ok: false,
        code: "SSO_EMAIL_DOMAIN_NOT_ALLOWED",
        check: "hd",
        expected: `one of ${policy.activeDomains.join(", ") || "(no verified domain)"}`,
        received: claims.hd,
      };
    }
  }
  if (policy.emailClaim !== "email") return { ok: true, emailVerified: false };
  if (isEntra(policy, claims) && !isTrue(claims.xms_edov)) {
    return {
      ok: false,
      code: "SSO_EMAIL_UNVERIFIED",
      check: "xms_edov",
      expected: "true (Entra ID's email-domain-verified claim)",
      received: claims.xms_edov,
    };
  }
  return { ok: true, emailVerified: true };
}
