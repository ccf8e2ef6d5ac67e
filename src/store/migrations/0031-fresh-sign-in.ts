import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * An application's `prompt=login` or `max_age` wants the person to authenticate again, not a
 * Gatehouse session that an IdP's session answered silently.
 * - `login_transactions.reauthenticate`: the sign-in asked the IdP to sign the person in afresh
 *   (OIDC `prompt=login`, SAML `ForceAuthn`), 1 or 0.
 * - `sessions.authenticated_afresh`: the session's sign-in did (a password typed, or a sign-in
 *   that asked its IdP to re-authenticate), 1 or 0. Sessions from before are 0.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable("login_transactions")
    .addColumn("reauthenticate", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("sessions")
    .addColumn("authenticated_afresh", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("sessions").dropColumn("authenticated_afresh").execute();
  await db.schema.alterTable("login_transactions").dropColumn("reauthenticate").execute();
}
