import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * `connection_saml.slo_response_url`: the `ResponseLocation` of the IdP's SingleLogoutService,
 * where its metadata asks for logout responses to go instead of `Location` (SAML metadata
 * 2.2.2). Null when the metadata names none, or the IdP was entered by hand: responses then go
 * to `slo_url`, as before.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable("connection_saml").addColumn("slo_response_url", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("connection_saml").dropColumn("slo_response_url").execute();
}
