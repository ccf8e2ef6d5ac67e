/** The tables of Gatehouse as an OpenID Provider (migration 0009-openid-provider). */
import type { SignInMethod } from "./schema.js";

export type ApplicationAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none";
/** OpenID Connect Dynamic Client Registration's `application_type`. */
export type ApplicationType = "web" | "native";

export interface ApplicationsTable {
  /** The OAuth client_id. */
  client_id: string;
  name: string;
  /** Sealed with the secret box; null for public applications and private_key_jwt. */
  client_secret_sealed: string | null;
  token_endpoint_auth_method: ApplicationAuthMethod;
  /** `native` (RFC 8252): public, with loopback, private-use scheme or claimed https redirects (0030). */
  application_type: ApplicationType;
  /** JSON arrays of exact URIs. */
  redirect_uris: string;
  post_logout_redirect_uris: string;
  backchannel_logout_uri: string | null;
  /** For private_key_jwt. */
  jwks_uri: string | null;
  created_at: number;
}

export interface ProviderSigningKeysTable {
  kid: string;
  alg: string;
  /** The private JWK, sealed with the secret box. */
  private_jwk_sealed: string;
  created_at: number;
  /** Published from `created_at`; used for signing from here on (the rotation overlap). */
  signs_from: number;
  /** No longer published. */
  retired_at: number | null;
}

/** oidc-provider's models (codes, tokens, sessions, interactions, grants) as JSON payloads. */
export interface ProviderRecordsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  /** The oidc-provider session a code or token was issued in (migration 0029). */
  session_uid: string | null;
  /** Epoch milliseconds; null for records that do not expire. */
  expires_at: number | null;
  consumed_at: number | null;
}

/** Which Gatehouse session an application's sign-in came from: the source of its claims and of back-channel logout. */
export interface ApplicationSignInsTable {
  provider_session_uid: string;
  client_id: string;
  /** The `sid` claim this application received. */
  sid: string;
  session_id_hash: string;
  user_id: string;
  organization_id: string | null;
  method: SignInMethod;
  connection_id: string | null;
  /** Epoch milliseconds of the Gatehouse sign-in. */
  auth_time: number;
  created_at: number;
  expires_at: number;
  /** When its logout token was queued: one per ended sign-in, whatever ended it (migration 0029). */
  logged_out_at: number | null;
}

/** Logout tokens still to deliver (Back-Channel Logout 1.0), retried with backoff. */
export interface BackchannelLogoutsTable {
  id: string;
  client_id: string;
  sub: string;
  sid: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
}

export interface ProviderTables {
  applications: ApplicationsTable;
  provider_signing_keys: ProviderSigningKeysTable;
  provider_records: ProviderRecordsTable;
  application_sign_ins: ApplicationSignInsTable;
  backchannel_logouts: BackchannelLogoutsTable;
}
