import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * SAML 2.0 connections (src/sso/saml/):
 *
 * - `connection_saml`: a connection's IdP settings (entity ID, SSO and SLO URLs, signing
 *   certificates as a JSON list so a rollover can list two, attribute names) and its own SP key
 *   pair, the private key sealed with the secret box and bound to the connection's id.
 * - `saml_assertion_ids`: every accepted assertion, by a hash of (issuer, ID), until it
 *   expires. The primary key makes the second insert of one assertion fail: that is the replay
 *   check, shared by every instance on one database.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("connection_saml")
    .addColumn("connection_id", "text", (c) =>
      c.primaryKey().references("connections.id").onDelete("cascade"),
    )
    .addColumn("idp_entity_id", "text", (c) => c.notNull())
    .addColumn("sso_url", "text", (c) => c.notNull())
    .addColumn("slo_url", "text")
    .addColumn("signing_certificates", "text", (c) => c.notNull())
    .addColumn("want_authn_requests_signed", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("allow_idp_initiated", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("email_attribute", "text")
    .addColumn("name_attribute", "text")
    .addColumn("groups_attribute", "text")
    .addColumn("metadata_url", "text")
    .addColumn("sp_private_key_sealed", "text", (c) => c.notNull())
    .addColumn("sp_certificate", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("saml_assertion_ids")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("saml_assertion_ids_expires_idx")
    .on("saml_assertion_ids")
    .column("expires_at")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("saml_assertion_ids").execute();
  await db.schema.dropTable("connection_saml").execute();
}
