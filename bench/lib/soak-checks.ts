import pg from "pg";

/**
 * What the database holds once the soak is over, read with plain SQL on a connection of its
 * own: every session, every user, and the rows that would betray a half-written sign-in.
 */
export interface DatabaseFacts {
  sessions: Map<string, { revoked: boolean; expiresAt: number; email: string | null }>;
  users: Map<string, { sessions: number }>;
  /** Each check's offending rows, described; empty when the check holds. */
  problems: Array<{ check: string; rows: string[] }>;
  connections: Array<{ name: string; status: string; domains: string[] }>;
  auditSignInSuccesses: number;
  auditProvisioned: number;
  /** Users who sign in with SSO only (no password): the ones the soak created. */
  ssoUsers: number;
}

/** Each query returns the offending rows as `what` text; none is the healthy answer. */
const INTEGRITY_CHECKS: Array<[string, string]> = [
  [
    "every user has exactly one membership",
    `select u.email || ': ' || count(m.user_id) || ' memberships' as what
       from users u left join memberships m on m.user_id = u.id
      group by u.id, u.email having count(m.user_id) <> 1`,
  ],
  [
    "every SSO user has exactly one identity",
    `select u.email || ': ' || count(i.id) || ' identities' as what
       from users u left join identities i on i.user_id = u.id
      where not exists (select 1 from password_credentials p where p.user_id = u.id)
      group by u.id, u.email having count(i.id) <> 1`,
  ],
  [
    "every SSO user has a session (user, identity and session are written together)",
    `select u.email as what from users u
      where not exists (select 1 from password_credentials p where p.user_id = u.id)
        and not exists (select 1 from sessions s where s.user_id = u.id)`,
  ],
  [
    "no identity without its user",
    `select i.id || ' (user ' || i.user_id || ')' as what
       from identities i left join users u on u.id = i.user_id where u.id is null`,
  ],
  [
    "no identity of a missing connection",
    `select i.id || ' (connection ' || i.connection_id || ')' as what
       from identities i left join connections c on c.id = i.connection_id
      where i.connection_id is not null and c.id is null`,
  ],
  [
    "no subject linked twice",
    `select provider_key || ' ' || subject || ': ' || count(*) as what
       from identities group by provider_key, subject having count(*) > 1`,
  ],
  [
    "no membership without its user or organization",
    `select m.user_id || ' in ' || m.organization_id as what
       from memberships m
       left join users u on u.id = m.user_id
       left join organizations o on o.id = m.organization_id
      where u.id is null or o.id is null`,
  ],
  [
    "no session without its user, organization or connection",
    `select s.id_hash as what
       from sessions s
       left join users u on u.id = s.user_id
       left join organizations o on o.id = s.organization_id
       left join connections c on c.id = s.connection_id
      where u.id is null
         or (s.organization_id is not null and o.id is null)
         or (s.connection_id is not null and c.id is null)`,
  ],
  [
    "no domain without its connection",
    `select d.domain as what from connection_domains d
       left join connections c on c.id = d.connection_id where c.id is null`,
  ],
];

export async function readDatabaseFacts(url: string): Promise<DatabaseFacts> {
  const client = new pg.Client({ connectionString: url, application_name: "gatehouse-soak-checks" });
  await client.connect();
  try {
    const sessions = new Map<string, { revoked: boolean; expiresAt: number; email: string | null }>();
    const sessionRows = await client.query<{
      id_hash: string;
      revoked_at: string | null;
      expires_at: string;
      email: string | null;
    }>(
      `select s.id_hash, s.revoked_at, s.expires_at, u.email
         from sessions s left join users u on u.id = s.user_id`,
    );
    for (const row of sessionRows.rows) {
      sessions.set(row.id_hash, {
        revoked: row.revoked_at !== null,
        expiresAt: Number(row.expires_at),
        email: row.email,
      });
    }
    const users = new Map<string, { sessions: number }>();
    const userRows = await client.query<{ email: string; sessions: number }>(
      `select u.email, count(s.id_hash)::int as sessions
         from users u left join sessions s on s.user_id = u.id group by u.id, u.email`,
    );
    for (const row of userRows.rows) users.set(row.email, { sessions: row.sessions });

    const problems: DatabaseFacts["problems"] = [];
    for (const [check, query] of INTEGRITY_CHECKS) {
      const { rows } = await client.query<{ what: string }>(query);
      problems.push({ check, rows: rows.map((r) => r.what) });
    }
    const connections = await client.query<{ name: string; status: string; domains: string[] | null }>(
      `select c.name, c.status, array_remove(array_agg(d.domain order by d.domain), null) as domains
         from connections c left join connection_domains d on d.connection_id = c.id
        group by c.id, c.name, c.status`,
    );
    const count = async (query: string) => Number((await client.query<{ n: string }>(query)).rows[0]?.n ?? 0);
    return {
      sessions,
      users,
      problems,
      connections: connections.rows.map((r) => ({
        name: r.name,
        status: r.status,
        domains: r.domains ?? [],
      })),
      auditSignInSuccesses: await count(
        `select count(*) as n from audit_events where type = 'sign_in.sso' and outcome = 'success'`,
      ),
      auditProvisioned: await count(`select count(*) as n from audit_events where type = 'user.provisioned'`),
      ssoUsers: await count(
        `select count(*) as n from users u
          where not exists (select 1 from password_credentials p where p.user_id = u.id)`,
      ),
    };
  } finally {
    await client.end();
  }
}
