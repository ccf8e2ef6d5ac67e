import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * `login_transactions.login_hint`: the address the person typed to start the sign-in, when they
 * typed one. A refusal before the provider has said who signed in (the person cancelled at the
 * IdP, the token endpoint refused Gatehouse) is then audited with it, marked as typed, so the
 * admin asked "why can't Ada sign in?" finds her attempts. Never treated as the person's
 * identity: only the provider's assertion is.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("login_transactions").addColumn("login_hint", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("login_transactions").dropColumn("login_hint").execute();
}
