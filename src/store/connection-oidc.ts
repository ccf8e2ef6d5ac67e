/**
 * The OpenID Connect settings of a connection (`connection_oidc`): how connections.ts joins,
 * reads, inserts and changes them. A protocol's settings module has these four parts; adding a
 * protocol adds one such module and one line in each of connections.ts's protocol lists.
 */
import type { Kysely } from "kysely";
import type { Database, TokenEndpointAuthMethod } from "./schema.js";

/** An OpenID Connect connection's settings: the client secret stays sealed until a flow needs it. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecretSealed: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod | null;
  scopes: string;
  /** The claim that holds the email: `email`, or e.g. `preferred_username` / `upn` for Entra ID. */
  emailClaim: string;
  clockSkewSeconds: number;
  signingKeySealed: string | null;
  signingKid: string | null;
  idTokenIssuer: string | null;
  /** Tenant ids (`tid`) a multi-tenant issuer may sign in from. */
  allowedTenants: string[];
}

/** What a new connection must state; the rest have defaults. */
export type NewOidcSettings = Pick<
  OidcSettings,
  "issuer" | "clientId" | "clientSecretSealed" | "tokenEndpointAuthMethod" | "scopes"
> &
  Partial<
    Omit<OidcSettings, "issuer" | "clientId" | "clientSecretSealed" | "tokenEndpointAuthMethod" | "scopes">
  >;

/** The columns a connection query selects from the left-joined `connection_oidc`, prefixed `oidc_`. */
export const OIDC_SELECTION = [
  "connection_oidc.issuer as oidc_issuer",
  "connection_oidc.client_id as oidc_client_id",
  "connection_oidc.client_secret_sealed as oidc_client_secret_sealed",
  "connection_oidc.token_endpoint_auth_method as oidc_token_endpoint_auth_method",
  "connection_oidc.scopes as oidc_scopes",
  "connection_oidc.email_claim as oidc_email_claim",
  "connection_oidc.clock_skew_seconds as oidc_clock_skew_seconds",
  "connection_oidc.signing_key_sealed as oidc_signing_key_sealed",
  "connection_oidc.signing_kid as oidc_signing_kid",
  "connection_oidc.id_token_issuer as oidc_id_token_issuer",
  "connection_oidc.allowed_tenants as oidc_allowed_tenants",
] as const;

/** The selected columns as a row holds them (null when the connection is of another protocol). */
export interface OidcColumns {
  oidc_issuer: string | null;
  oidc_client_id: string | null;
  oidc_client_secret_sealed: string | null;
  oidc_token_endpoint_auth_method: TokenEndpointAuthMethod | null;
  oidc_scopes: string | null;
  oidc_email_claim: string | null;
  oidc_clock_skew_seconds: number | null;
  oidc_signing_key_sealed: string | null;
  oidc_signing_kid: string | null;
  oidc_id_token_issuer: string | null;
  oidc_allowed_tenants: string | null;
}

/** The settings of a row whose protocol is `oidc`; every such row has its settings row (same transaction). */
export function readOidcSettings(row: OidcColumns): OidcSettings {
  return {
    issuer: row.oidc_issuer ?? "",
    clientId: row.oidc_client_id ?? "",
    clientSecretSealed: row.oidc_client_secret_sealed ?? "",
    tokenEndpointAuthMethod: row.oidc_token_endpoint_auth_method,
    scopes: row.oidc_scopes ?? "",
    emailClaim: row.oidc_email_claim ?? "email",
    clockSkewSeconds: row.oidc_clock_skew_seconds ?? 60,
    signingKeySealed: row.oidc_signing_key_sealed,
    signingKid: row.oidc_signing_kid,
    idTokenIssuer: row.oidc_id_token_issuer,
    allowedTenants: row.oidc_allowed_tenants ? row.oidc_allowed_tenants.split(" ") : [],
  };
}

export async function insertOidcSettings(
  db: Kysely<Database>,
  connectionId: string,
  s: NewOidcSettings,
): Promise<void> {
  await db
    .insertInto("connection_oidc")
    .values({
      connection_id: connectionId,
      issuer: s.issuer,
      client_id: s.clientId,
      client_secret_sealed: s.clientSecretSealed,
      token_endpoint_auth_method: s.tokenEndpointAuthMethod,
      scopes: s.scopes,
      email_claim: s.emailClaim ?? "email",
      clock_skew_seconds: s.clockSkewSeconds ?? 60,
      signing_key_sealed: s.signingKeySealed ?? null,
      signing_kid: s.signingKid ?? null,
      id_token_issuer: s.idTokenIssuer ?? null,
      allowed_tenants: (s.allowedTenants ?? []).join(" "),
    })
    .execute();
}

/** Applies the changed settings; the caller has already claimed the edit on `connections`. */
export async function updateOidcSettings(
  db: Kysely<Database>,
  connectionId: string,
  c: Partial<OidcSettings>,
): Promise<void> {
  const set = {
    ...(c.issuer !== undefined ? { issuer: c.issuer } : {}),
    ...(c.clientId !== undefined ? { client_id: c.clientId } : {}),
    ...(c.clientSecretSealed !== undefined ? { client_secret_sealed: c.clientSecretSealed } : {}),
    ...(c.tokenEndpointAuthMethod !== undefined
      ? { token_endpoint_auth_method: c.tokenEndpointAuthMethod }
      : {}),
    ...(c.scopes !== undefined ? { scopes: c.scopes } : {}),
    ...(c.emailClaim !== undefined ? { email_claim: c.emailClaim } : {}),
    ...(c.clockSkewSeconds !== undefined ? { clock_skew_seconds: c.clockSkewSeconds } : {}),
    ...(c.signingKeySealed !== undefined ? { signing_key_sealed: c.signingKeySealed } : {}),
    ...(c.signingKid !== undefined ? { signing_kid: c.signingKid } : {}),
    ...(c.idTokenIssuer !== undefined ? { id_token_issuer: c.idTokenIssuer } : {}),
    ...(c.allowedTenants !== undefined ? { allowed_tenants: c.allowedTenants.join(" ") } : {}),
  };
  if (Object.keys(set).length === 0) return;
  await db.updateTable("connection_oidc").set(set).where("connection_id", "=", connectionId).execute();
}
