import { type Kysely, PostgresAdapter, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * The user list pages an organization's members by email. With the email only in `users`, its
 * first page read and sorted every member of the organization before it returned 50: the cost
 * grew with the organization (bench/README.md, "Data size"). Each membership now carries a copy
 * of its user's email, so a page is one range of `memberships_org_email_idx`, read in order and
 * in its own length.
 *
 * The copy is kept by the database, not by the code paths that write: a membership's email is
 * set from `users` when it is inserted, and a change of a user's email is copied to every
 * membership of that user in the same statement. Whatever writes the tables (a sign-in that
 * follows a renamed email, the CLI, a restore), the copy cannot drift.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable("memberships")
    .addColumn("user_email", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await sql`update memberships set user_email = (select email from users where users.id = memberships.user_id)`.execute(
    db,
  );

  if (isPostgres(db)) {
    await sql`
      create function gh_membership_user_email() returns trigger
      language plpgsql as $$
      begin
        select email into new.user_email from users where id = new.user_id;
        return new;
      end $$`.execute(db);
    await sql`
      create trigger memberships_user_email before insert or update of user_id, user_email on memberships
      for each row execute function gh_membership_user_email()`.execute(db);
    await sql`
      create function gh_user_email_to_memberships() returns trigger
      language plpgsql as $$
      begin
        update memberships set user_email = new.email where user_id = new.id;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger users_email_to_memberships after update of email on users
      for each row when (old.email is distinct from new.email)
      execute function gh_user_email_to_memberships()`.execute(db);
  } else {
    // SQLite's BEFORE triggers cannot change the new row: an insert or update that did not
    // carry the user's email is corrected in place right after it.
    await sql`
      create trigger memberships_user_email_insert after insert on memberships
      when new.user_email is not (select email from users where id = new.user_id)
      begin
        update memberships set user_email = (select email from users where id = new.user_id)
        where organization_id = new.organization_id and user_id = new.user_id;
      end`.execute(db);
    await sql`
      create trigger memberships_user_email_update after update of user_id, user_email on memberships
      when new.user_email is not (select email from users where id = new.user_id)
      begin
        update memberships set user_email = (select email from users where id = new.user_id)
        where organization_id = new.organization_id and user_id = new.user_id;
      end`.execute(db);
    await sql`
      create trigger users_email_to_memberships after update of email on users
      when old.email is not new.email
      begin
        update memberships set user_email = new.email where user_id = new.id;
      end`.execute(db);
  }

  await db.schema
    .createIndex("memberships_org_email_idx")
    .on("memberships")
    .columns(["organization_id", "user_email", "user_id"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex("memberships_org_email_idx").ifExists().execute();
  if (isPostgres(db)) {
    await sql`drop trigger if exists users_email_to_memberships on users`.execute(db);
    await sql`drop trigger if exists memberships_user_email on memberships`.execute(db);
    await sql`drop function if exists gh_user_email_to_memberships()`.execute(db);
    await sql`drop function if exists gh_membership_user_email()`.execute(db);
  } else {
    for (const trigger of [
      "users_email_to_memberships",
      "memberships_user_email_insert",
      "memberships_user_email_update",
    ]) {
      await sql.raw(`drop trigger if exists ${trigger}`).execute(db);
    }
  }
  await db.schema.alterTable("memberships").dropColumn("user_email").execute();
}

function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
