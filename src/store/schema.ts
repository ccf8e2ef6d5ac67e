/**
 * The database as Kysely sees it: one interface per table. Times are epoch milliseconds
 * (bigint columns) so both dialects compare them the same way.
 */
import type { Generated } from "kysely";
import type { ProviderTables } from "./provider-schema.js";

export type Role = "owner" | "admin" | "member";
export type SignInMethod = "password" | "linkedin" | "sso";
export type ConnectionStatus = "enabled" | "disabled";
export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt";

export interface OrganizationsTable {
  id: string;
  slug: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  /** Lower-cased; one account per address across the deployment. */
  email: string;
  name: string | null;
  /** As the identity provider last asserted them (`given_name`, `family_name`). */
  given_name: string | null;
  family_name: string | null;
  created_at: number;
}

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  role: Role;
  created_at: number;
  /** The user's email, copied and kept in sync by the database (migration 0024) for the user list's order. */
  user_email: Generated<string>;
}

export interface PasswordCredentialsTable {
  user_id: string;
  hash: string;
  updated_at: number;
}

export interface IdentitiesTable {
  id: string;
  user_id: string;
  /** `connection:<id>` for enterprise SSO, `linkedin` for the social sign-in. */
  provider_key: string;
  connection_id: string | null;
  subject: string;
  email: string | null;
  created_at: number;
  last_sign_in_at: number;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value; the value itself is never stored. */
  id_hash: string;
  user_id: string;
  organization_id: string | null;
  method: SignInMethod;
  connection_id: string | null;
  /** Before migration 0019 the ID token in clear; sealed into `id_token_sealed` at start-up, null since. */
  id_token: string | null;
  /** Kept for RP-initiated logout (`id_token_hint`), sealed with the secret box (context `session:<id_hash>`). */
  id_token_sealed: string | null;
  idp_sid: string | null;
  /** The IdP session of protocols other than OpenID Connect (src/sign-in/adapter.ts `IdpSession`), JSON sealed like the ID token. */
  idp_session_sealed: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  /** The idle timeout counts from here; refreshed at most once a minute by the session check. */
  last_seen_at: number | null;
  /** 1 when its sign-in asked for the person's credentials afresh (a password, or an IdP asked to re-authenticate). */
  authenticated_afresh: Generated<number>;
}

export interface ApiKeysTable {
  id: string;
  organization_id: string;
  name: string;
  key_hash: string;
  /** The first characters, so an admin can tell keys apart. */
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Keys that act for the deployment (organizations, applications), not for one organization. */
export interface OperatorApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** A one-time setup link for a person to join an organization; only its hash is stored. */
export interface InvitationsTable {
  id: string;
  organization_id: string;
  /** Lower-cased. */
  email: string;
  role: Role;
  token_hash: string;
  invited_by_user_id: string | null;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  revoked_at: number | null;
}

/** The answer to a create, kept so a retry with the same `Idempotency-Key` gets it again. */
export interface IdempotencyKeysTable {
  id: string;
  /** Who sent it: `api_key:<id>`, `operator_key:<id>` or `session:<user id>`. */
  caller: string;
  key: string;
  /** SHA-256 of method, path and body: the same key with another request is refused. */
  request_hash: string;
  /** Null while the first request runs. */
  status_code: number | null;
  /** `{"body": ..., "location": ...}`, sealed: it can hold a secret shown once. */
  response_sealed: string | null;
  created_at: number;
  expires_at: number;
}

/** The protocols a connection speaks; each has a settings table (`connection_<protocol>`). */
export type ConnectionProtocol = "oidc" | "saml";

/** What every connection has, whatever its protocol. */
export interface ConnectionsTable {
  id: string;
  organization_id: string;
  protocol: ConnectionProtocol;
  name: string;
  /** Lower-cased name: names are unique across the deployment, case-insensitively. */
  name_key: string;
  status: ConnectionStatus;
  created_by_user_id: string | null;
  created_at: number;
  updated_at: number;
  /** The claim (or SAML attribute) holding the person's groups (src/domain/provider-roles.ts). */
  groups_claim: string;
  /** JSON array of `{"group", "role"}`, role `admin` or `member`; never `owner`. */
  role_rules: string;
  /** The role of a new user no rule matched. */
  default_role: "admin" | "member";
}

/** An OpenID Connect connection's settings (one row per connection whose protocol is `oidc`). */
export interface ConnectionOidcTable {
  connection_id: string;
  issuer: string;
  client_id: string;
  client_secret_sealed: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod | null;
  scopes: string;
  /** The claim that holds the email: `email`, or e.g. `preferred_username` / `upn` for Entra ID. */
  email_claim: string;
  clock_skew_seconds: number;
  /** The private JWK for `private_key_jwt`, sealed like the client secret. */
  signing_key_sealed: string | null;
  signing_kid: string | null;
  /** Set when the discovery document's issuer is a template (Entra ID's `{tenantid}`). */
  id_token_issuer: string | null;
  /** Tenant ids (`tid`) a multi-tenant issuer may sign in from, space-separated; empty for none. */
  allowed_tenants: string;
}

/** A SAML connection's settings (one row per connection whose protocol is `saml`). */
export interface ConnectionSamlTable {
  connection_id: string;
  idp_entity_id: string;
  sso_url: string;
  slo_url: string | null;
  /** Its SingleLogoutService's ResponseLocation, when it names one. */
  slo_response_url: string | null;
  /** JSON array of PEM certificates. */
  signing_certificates: string;
  /** 0 or 1 (both dialects). */
  want_authn_requests_signed: number;
  allow_idp_initiated: number;
  email_attribute: string | null;
  name_attribute: string | null;
  groups_attribute: string | null;
  metadata_url: string | null;
  /** Sealed with the secret box (context `connection-saml-key:<connection id>`). */
  sp_private_key_sealed: string;
  sp_certificate: string;
}

/** Accepted SAML assertions until they expire: a second insert of one is a replay. */
export interface SamlAssertionIdsTable {
  /** SHA-256 of issuer and assertion ID (src/store/saml-assertion-ids.ts). */
  id: string;
  expires_at: number;
}

/** The id an organization's next SAML connection will have (src/store/saml-reserved-ids.ts). */
export interface SamlReservedConnectionIdsTable {
  organization_id: string;
  connection_id: string;
  reserved_at: number;
}

export interface ConnectionDomainsTable {
  /** A domain is listed on at most one connection per organization; it points at the organization's domain. */
  domain: string;
  connection_id: string;
  organization_id: string;
}

export type DomainState = "pending" | "verified" | "failing";
export type DomainVerifiedBy = "dns" | "operator";
export type DomainCheckOutcome = "verified" | "no_record" | "mismatch" | "dns_error";

export interface OrganizationDomainsTable {
  id: string;
  organization_id: string;
  /** Punycode, lower-case, no trailing dot. Verified (or failing) by at most one organization. */
  domain: string;
  state: DomainState;
  /** 192 bits from the CSPRNG, base64url; published as `gatehouse-domain-verification=<token>`. */
  verification_token: string;
  verified_at: number | null;
  verified_by: DomainVerifiedBy | null;
  verified_by_user_id: string | null;
  last_checked_at: number | null;
  last_check_outcome: DomainCheckOutcome | null;
  /** When a verified domain's record was first found missing; the grace period counts from here. */
  failing_since: number | null;
  created_at: number;
}

export interface LoginTransactionsTable {
  /** SHA-256 of the handle the IdP carries back (OIDC `state`, SAML `RelayState`). */
  id: string;
  /** The sign-in adapter that began it (src/sign-in/adapter.ts): `oidc`, `linkedin`, ... */
  protocol: string;
  connection_id: string | null;
  /** SHA-256 of the browser-binding cookie set when the flow started. */
  browser_hash: string;
  return_to: string;
  /** JSON: what the adapter keeps until the answer (OIDC nonce and PKCE verifier). */
  payload: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  /** A real sign-in, or an admin's test sign-in, which starts no session. */
  purpose: "sign_in" | "test";
  connection_test_id: string | null;
  /** The address the person typed to start, if any: unverified, for the audit of a refusal. */
  login_hint: string | null;
  /** 1 when the IdP was asked to sign the person in afresh (OIDC `prompt=login`, SAML `ForceAuthn`). */
  reauthenticate: number;
}

export interface ConnectionTestsTable {
  id: string;
  organization_id: string;
  connection_id: string | null;
  actor_user_id: string | null;
  session_hash: string | null;
  settings: string | null;
  client_secret_sealed: string | null;
  result: string | null;
  outcome: "success" | "failure" | null;
  created_at: number;
  expires_at: number;
  finished_at: number | null;
}

export interface AuditEventsTable {
  id: string;
  organization_id: string | null;
  type: string;
  outcome: "success" | "failure" | null;
  actor_user_id: string | null;
  user_id: string | null;
  connection_id: string | null;
  email: string | null;
  subject: string | null;
  reason_code: string | null;
  /** JSON object with the technical detail; never a secret or token. */
  detail: string | null;
  trace_id: string | null;
  ip: string | null;
  created_at: number;
}

export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}

export interface Database extends ProviderTables {
  organizations: OrganizationsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  password_credentials: PasswordCredentialsTable;
  identities: IdentitiesTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  operator_api_keys: OperatorApiKeysTable;
  invitations: InvitationsTable;
  idempotency_keys: IdempotencyKeysTable;
  connections: ConnectionsTable;
  connection_oidc: ConnectionOidcTable;
  connection_domains: ConnectionDomainsTable;
  connection_saml: ConnectionSamlTable;
  saml_assertion_ids: SamlAssertionIdsTable;
  saml_reserved_connection_ids: SamlReservedConnectionIdsTable;
  organization_domains: OrganizationDomainsTable;
  login_transactions: LoginTransactionsTable;
  connection_tests: ConnectionTestsTable;
  audit_events: AuditEventsTable;
  rate_limits: RateLimitsTable;
}
