import { type Kysely, PostgresAdapter, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Indexes for the foreign keys and purges that otherwise scan whole tables once they hold
 * millions of rows, and, on PostgreSQL, the triggers that tell every instance's session cache
 * what changed (src/store/session-changes.ts listens).
 *
 * The triggers sit in the database so that every way a session ends or its user, membership,
 * organization or connection changes is announced, whichever code path or tool made the
 * change. They are statement-level with transition tables: a bulk revocation or a purge sends
 * one notification, not one per row. `pg_notify` inside the writing transaction is delivered on
 * commit only, and never for a rollback. Payloads: `s:<hash>,<hash>…` (sessions), `u:<id>,…`
 * (users), or `*` (everything), on a channel named after the schema so that several Gatehouse
 * databases in one PostgreSQL cluster do not hear each other.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createIndex("identities_connection_idx").on("identities").column("connection_id").execute();
  await db.schema
    .createIndex("login_transactions_connection_idx")
    .on("login_transactions")
    .column("connection_id")
    .execute();
  await db.schema.createIndex("audit_events_time_idx").on("audit_events").column("created_at").execute();

  if (!isPostgres(db)) return;

  await sql`
    create function gh_session_changes_channel(schema_name text) returns text
    language sql immutable as $$ select 'gh_' || left(md5(schema_name), 16) $$`.execute(db);

  await sql`
    create function gh_announce(channel text, kind text, ids text[]) returns void
    language plpgsql as $$
    begin
      if ids is null or cardinality(ids) = 0 then return; end if;
      if cardinality(ids) > 100 then
        perform pg_notify(channel, '*');
      else
        perform pg_notify(channel, kind || ':' || array_to_string(ids, ','));
      end if;
    end $$`.execute(db);

  // A session row matters to a cache while it is live; an expired one is refused by the cache
  // itself, so purging expired rows announces nothing.
  await sql`
    create function gh_sessions_changed() returns trigger
    language plpgsql as $$
    declare
      ids text[];
      now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
    begin
      if tg_op = 'DELETE' then
        select array_agg(id_hash) into ids from (
          select id_hash from gh_old where revoked_at is null and expires_at > now_ms limit 101) s;
      else
        select array_agg(id_hash) into ids from (
          select n.id_hash from gh_new n join gh_old o on o.id_hash = n.id_hash
          where o.revoked_at is distinct from n.revoked_at
             or o.expires_at is distinct from n.expires_at
             or o.user_id is distinct from n.user_id
             or o.organization_id is distinct from n.organization_id
             or o.connection_id is distinct from n.connection_id
             or o.method is distinct from n.method
          limit 101) s;
      end if;
      perform gh_announce(gh_session_changes_channel(tg_table_schema), 's', ids);
      return null;
    end $$`.execute(db);

  await sql`
    create function gh_users_changed() returns trigger
    language plpgsql as $$
    declare ids text[];
    begin
      if tg_op = 'DELETE' then
        select array_agg(id) into ids from (select id from gh_old limit 101) s;
      else
        select array_agg(id) into ids from (
          select n.id from gh_new n join gh_old o on o.id = n.id
          where o.email is distinct from n.email or o.name is distinct from n.name
          limit 101) s;
      end if;
      perform gh_announce(gh_session_changes_channel(tg_table_schema), 'u', ids);
      return null;
    end $$`.execute(db);

  // Role changes and removals. A new membership changes no cached session: the cache keeps no
  // session whose organization has no membership for its user.
  await sql`
    create function gh_memberships_changed() returns trigger
    language plpgsql as $$
    declare ids text[];
    begin
      if tg_op = 'DELETE' then
        select array_agg(distinct user_id) into ids from (select user_id from gh_old limit 101) s;
      else
        select array_agg(distinct user_id) into ids from (
          select n.user_id from gh_new n join gh_old o
            on o.user_id = n.user_id and o.organization_id = n.organization_id
          where o.role is distinct from n.role
          limit 101) s;
      end if;
      perform gh_announce(gh_session_changes_channel(tg_table_schema), 'u', ids);
      return null;
    end $$`.execute(db);

  // Renamed or deleted organizations and connections: rare administrative changes, so every
  // cache starts over rather than tracking which sessions show the name.
  await sql`
    create function gh_names_changed() returns trigger
    language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        if exists (select 1 from gh_old) then
          perform pg_notify(gh_session_changes_channel(tg_table_schema), '*');
        end if;
      elsif exists (
        select 1 from gh_new n join gh_old o on o.id = n.id
        where o.name is distinct from n.name
           or (to_jsonb(o) ->> 'slug') is distinct from (to_jsonb(n) ->> 'slug')) then
        perform pg_notify(gh_session_changes_channel(tg_table_schema), '*');
      end if;
      return null;
    end $$`.execute(db);

  for (const [table, fn] of [
    ["sessions", "gh_sessions_changed"],
    ["users", "gh_users_changed"],
    ["memberships", "gh_memberships_changed"],
    ["organizations", "gh_names_changed"],
    ["connections", "gh_names_changed"],
  ] as const) {
    await sql
      .raw(
        `create trigger ${table}_changed_update after update on ${table}
         referencing old table as gh_old new table as gh_new
         for each statement execute function ${fn}()`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger ${table}_changed_delete after delete on ${table}
         referencing old table as gh_old
         for each statement execute function ${fn}()`,
      )
      .execute(db);
  }
}

export async function down(db: AnyDb): Promise<void> {
  if (isPostgres(db)) {
    for (const table of ["sessions", "users", "memberships", "organizations", "connections"]) {
      await sql.raw(`drop trigger if exists ${table}_changed_update on ${table}`).execute(db);
      await sql.raw(`drop trigger if exists ${table}_changed_delete on ${table}`).execute(db);
    }
    for (const fn of [
      "gh_sessions_changed()",
      "gh_users_changed()",
      "gh_memberships_changed()",
      "gh_names_changed()",
      "gh_announce(text, text, text[])",
      "gh_session_changes_channel(text)",
    ]) {
      await sql.raw(`drop function if exists ${fn}`).execute(db);
    }
  }
  for (const index of [
    "identities_connection_idx",
    "login_transactions_connection_idx",
    "audit_events_time_idx",
  ]) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
}

function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
