import { type Kysely, sql } from "kysely";
import { hashToken } from "../../src/crypto/tokens.js";
import type { Database } from "../../src/store/schema.js";

/**
 * The rows `npm run bench:data` loads into PostgreSQL, server-side: `generate_series` feeds
 * INSERT ... SELECT, which PostgreSQL runs about as fast as COPY and without sending a row over
 * the wire. Every organization has a verified domain (`org-<n>.test`) and an enabled OpenID
 * Connect connection listing it, every user an identity at their organization's connection, so
 * that the sign-in's own lookups (routing by domain, identity by subject) read full tables.
 * Ids are UUIDs made from the row's number (the API's responses declare them UUIDs); session ids
 * are `bench-<n>`, stored as the SHA-256 Gatehouse stores (base64url), so the benchmark can present
 * any of them.
 */

export interface LoadSizes {
  organizations: number;
  users: number;
  sessions: number;
  expiredSessions: number;
  auditEvents: number;
  loginTransactions: number;
  rateLimits: number;
}

export function loadSizes(scale: number): LoadSizes {
  return {
    organizations: Math.round(100_000 * scale),
    users: Math.round(1_000_000 * scale),
    sessions: Math.round(1_000_000 * scale),
    expiredSessions: Math.round(100_000 * scale),
    auditEvents: Math.round(10_000_000 * scale),
    // Consumed ones are kept a day; a day of sign-ins at the sessions' pace.
    loginTransactions: Math.round(1_000_000 * scale),
    rateLimits: Math.round(100_000 * scale),
  };
}

/** The seeded organization the list endpoints read and the benchmark signs in to. */
export interface Acme {
  organizationId: string;
  connectionId: string;
}

/** A thousandth of the users belong to Acme; a hundredth of the audit events are Acme's. */
const ACME_USER_EVERY = 1000;
const ACME_EVENT_EVERY = 100;
/** One loaded login transaction in a hundred is still open. */
const OPEN_TRANSACTION_EVERY = 100;

const KIND = { organization: 1, user: 2, connection: 3, domain: 4, identity: 5 } as const;
type Kind = keyof typeof KIND;

/** The UUID of loaded row `n` of a kind, as `uuidSql` makes it in PostgreSQL. */
export function loadedUuid(kind: Kind, n: number): string {
  return `${KIND[kind].toString(16).padStart(8, "0")}-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

function uuidSql(kind: Kind, n: string): string {
  return `'${KIND[kind].toString(16).padStart(8, "0")}-0000-4000-8000-' || lpad((${n})::text, 12, '0')`;
}

/** SQL for the base64url SHA-256 of a text expression: how Gatehouse stores a session id. */
function b64url(expr: string): string {
  return `translate(rtrim(encode(sha256(convert_to(${expr}, 'UTF8')), 'base64'), '='), '+/', '-_')`;
}

/** The cookie value of loaded session `n` (0 <= n < sizes.sessions). */
export function loadedSessionToken(n: number): string {
  return `bench-${n}`;
}

/** What the sign-in of loaded user `g` (not one of Acme's) looks up, for EXPLAIN. */
export function loadedSignIn(sizes: LoadSizes, g: number) {
  const organization = (g % sizes.organizations) + 1;
  return {
    domain: `org-${organization}.test`,
    providerKey: `connection:${loadedUuid("connection", organization)}`,
    subject: `sub-${g}`,
  };
}

/** The state hash and browser hash of an open loaded login transaction. */
export function openLoginTransaction(): { id: string; browserHash: string } {
  return {
    id: hashToken(`lt-${OPEN_TRANSACTION_EVERY}`),
    browserHash: hashToken(`browser-${OPEN_TRANSACTION_EVERY}`),
  };
}

/** Organization, user and connection of user `g` (SQL): Acme's for every thousandth. */
function ofUser(acme: Acme, sizes: LoadSizes, g: string) {
  const acmeUser = `(${g}) % ${ACME_USER_EVERY} = 0`;
  const organization = `(${g}) % ${sizes.organizations} + 1`;
  return {
    organization: `case when ${acmeUser} then '${acme.organizationId}' else ${uuidSql("organization", organization)} end`,
    connection: `case when ${acmeUser} then '${acme.connectionId}' else ${uuidSql("connection", organization)} end`,
    email: `'user' || (${g}) || '@org-' || (${organization}) || '.test'`,
  };
}

export async function loadData(
  db: Kysely<Database>,
  acme: Acme,
  sizes: LoadSizes,
  now: number,
  log: (message: string) => void,
): Promise<void> {
  const step = async (label: string, statement: string) => {
    const began = performance.now();
    await sql.raw(statement).execute(db);
    log(`  ${label}: ${((performance.now() - began) / 1000).toFixed(1)} s`);
  };
  const O = sizes.organizations;
  const user = ofUser(acme, sizes, "g");
  await step(
    "organizations",
    `insert into organizations (id, slug, name, created_at)
     select ${uuidSql("organization", "g")}, 'org-' || g, 'Organization ' || g, ${now}
     from generate_series(1, ${O}) g`,
  );
  // Verified by the operator: the maintenance's DNS re-verification leaves them alone.
  await step(
    "organization domains",
    `insert into organization_domains (id, organization_id, domain, state, verification_token, verified_at,
                                       verified_by, verified_by_user_id, last_checked_at, last_check_outcome,
                                       failing_since, created_at)
     select ${uuidSql("domain", "g")}, ${uuidSql("organization", "g")}, 'org-' || g || '.test', 'verified',
            ${b64url("'token-' || g")}, ${now}, 'operator', null, null, null, null, ${now}
     from generate_series(1, ${O}) g`,
  );
  await step(
    "connections",
    `insert into connections (id, organization_id, protocol, name, name_key, status, created_by_user_id,
                              created_at, updated_at)
     select ${uuidSql("connection", "g")}, ${uuidSql("organization", "g")}, 'oidc', 'Connection ' || g,
            'connection ' || g, 'enabled', null, ${now}, ${now}
     from generate_series(1, ${O}) g`,
  );
  // Never signed into: the sealed secret is a stand-in.
  await step(
    "connection settings",
    `insert into connection_oidc (connection_id, issuer, client_id, client_secret_sealed,
                                  token_endpoint_auth_method, scopes)
     select ${uuidSql("connection", "g")}, 'https://idp-' || g || '.example.test', 'client-' || g,
            'v1.' || ${b64url("'secret-' || g")}, null, 'openid email profile'
     from generate_series(1, ${O}) g`,
  );
  await step(
    "connection domains",
    `insert into connection_domains (connection_id, organization_id, domain)
     select ${uuidSql("connection", "g")}, ${uuidSql("organization", "g")}, 'org-' || g || '.test'
     from generate_series(1, ${O}) g`,
  );
  await step(
    "users",
    `insert into users (id, email, name, created_at)
     select ${uuidSql("user", "g")}, ${user.email}, 'User ' || g, ${now}
     from generate_series(1, ${sizes.users}) g`,
  );
  await step(
    "memberships",
    `insert into memberships (organization_id, user_id, role, created_at, user_email)
     select ${user.organization}, ${uuidSql("user", "g")}, 'member', ${now}, ${user.email}
     from generate_series(1, ${sizes.users}) g`,
  );
  await step(
    "identities",
    `insert into identities (id, user_id, provider_key, connection_id, subject, email, created_at, last_sign_in_at)
     select ${uuidSql("identity", "g")}, ${uuidSql("user", "g")}, 'connection:' || (${user.connection}),
            ${user.connection}, 'sub-' || g, ${user.email}, ${now}, ${now}
     from generate_series(1, ${sizes.users}) g`,
  );
  await step("sessions", liveSessions(acme, sizes, now));
  // Sign-ins of the last day: consumed (kept a day for replay detection), one in a hundred open.
  await step(
    "login transactions",
    `insert into login_transactions (id, protocol, connection_id, browser_hash, return_to, payload, created_at,
                                     expires_at, consumed_at, purpose, connection_test_id)
     select ${b64url("'lt-' || g")}, 'oidc', ${uuidSql("connection", `g % ${O} + 1`)}, ${b64url("'browser-' || g")},
            '/', '{}', t, t + 600000, case when g % ${OPEN_TRANSACTION_EVERY} = 0 then null else t + 5000 end,
            'sign_in', null
     from generate_series(1, ${sizes.loginTransactions}) g,
          lateral (select case when g % ${OPEN_TRANSACTION_EVERY} = 0 then ${now}
                               else ${now} - g::bigint * 86400000 / ${sizes.loginTransactions} end as t) times`,
  );
  // The current minute's counters of as many addresses.
  await step(
    "rate limits",
    `insert into rate_limits (key, window_start, count)
     select 'sso:start:net:10.' || (g / 65536 % 256) || '.' || (g / 256 % 256) || '.' || (g % 256),
            ${now - (now % 60_000)}, 1 + g % 5
     from generate_series(1, ${sizes.rateLimits}) g`,
  );
  await step(
    "audit events",
    `insert into audit_events (id, organization_id, type, outcome, actor_user_id, user_id, connection_id, email,
                               subject, reason_code, detail, trace_id, ip, created_at)
     select gen_random_uuid()::text,
            case when g % ${ACME_EVENT_EVERY} = 0 then '${acme.organizationId}' else ${uuidSql("organization", `g % ${O} + 1`)} end,
            'sign_in.sso', 'success', null, ${uuidSql("user", `g % ${sizes.users} + 1`)}, null,
            'user' || g || '@example.test', null, null, null, null, '127.0.0.1',
            ${now} - (g::bigint * 90 * 86400000 / ${sizes.auditEvents})
     from generate_series(1, ${sizes.auditEvents}) g`,
  );
  await step("analyze", "analyze");
}

/**
 * Live sessions were last used this long ago: more than the minute within which a check does
 * not record a use again, well within the idle timeout. A session's first check then reads the
 * database and records the use, on the empty database as on the loaded one.
 */
export const SESSIONS_LAST_USED_MS_AGO = 5 * 60_000;

/** Live SSO sessions `bench-0` ... of the users in turn, each at its user's organization and connection. */
function liveSessions(acme: Acme, sizes: LoadSizes, now: number): string {
  const createdAt = now - SESSIONS_LAST_USED_MS_AGO;
  return sessionsSql(acme, sizes, "bench-", sizes.sessions, createdAt, createdAt + 8 * 3600_000);
}

/** Sessions that expired an hour ago, for the purge to find. */
export function expiredSessions(acme: Acme, sizes: LoadSizes, now: number): string {
  return sessionsSql(acme, sizes, "expired-", sizes.expiredSessions, now - 9 * 3600_000, now - 3600_000);
}

function sessionsSql(
  acme: Acme,
  sizes: LoadSizes,
  prefix: string,
  count: number,
  createdAt: number,
  expiresAt: number,
): string {
  const user = ofUser(acme, sizes, "u");
  return `insert into sessions (id_hash, user_id, organization_id, method, connection_id, id_token, idp_sid,
                                created_at, expires_at, revoked_at, last_seen_at)
     select ${b64url(`'${prefix}' || g`)}, ${uuidSql("user", "u")}, ${user.organization}, 'sso',
            ${user.connection}, null, null, ${createdAt}, ${expiresAt}, null, ${createdAt}
     from generate_series(0, ${count} - 1) g, lateral (select g % ${sizes.users} + 1 as u) users`;
}
