import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/** The OpenID Connect settings, in the order of their columns. */
const OIDC_COLUMNS = [
  "issuer",
  "client_id",
  "client_secret_sealed",
  "token_endpoint_auth_method",
  "scopes",
  "email_claim",
  "clock_skew_seconds",
  "signing_key_sealed",
  "signing_kid",
  "id_token_issuer",
  "allowed_tenants",
] as const;

/**
 * A connection is a common row (organization, name, status, role rules) and the settings of its
 * protocol in a table of their own, so a second protocol (SAML, `connection_saml`) adds a table
 * rather than nullable columns: `connections.type` becomes `protocol`, and the OpenID Connect
 * columns move, with their values, to `connection_oidc`.
 *
 * Neither dialect rebuilds `connections`: its id is the target of five foreign keys with
 * `on delete cascade`, and SQLite's table rebuild would need foreign keys off, which a
 * migration cannot switch inside its transaction. `drop column` (SQLite 3.35+) is enough, as
 * none of the moved columns is indexed, unique or referenced.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("connection_oidc")
    .addColumn("connection_id", "text", (c) =>
      c.primaryKey().references("connections.id").onDelete("cascade"),
    )
    .addColumn("issuer", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("client_secret_sealed", "text", (c) => c.notNull())
    .addColumn("token_endpoint_auth_method", "text")
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("email_claim", "text", (c) => c.notNull().defaultTo("email"))
    .addColumn("clock_skew_seconds", "integer", (c) => c.notNull().defaultTo(60))
    .addColumn("signing_key_sealed", "text")
    .addColumn("signing_kid", "text")
    .addColumn("id_token_issuer", "text")
    .addColumn("allowed_tenants", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  const columns = sql.join(OIDC_COLUMNS.map((c) => sql.ref(c)));
  await sql`insert into connection_oidc (connection_id, ${columns})
    select id, ${columns} from connections where type = 'oidc'`.execute(db);
  for (const column of OIDC_COLUMNS) {
    await db.schema.alterTable("connections").dropColumn(column).execute();
  }
  await db.schema.alterTable("connections").renameColumn("type", "protocol").execute();
}

/** Back to one table; only OpenID Connect connections existed before, so only they return. */
export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("connections").renameColumn("protocol", "type").execute();
  await db.deleteFrom("connections").where("type", "!=", "oidc").execute();
  await db.schema
    .alterTable("connections")
    .addColumn("issuer", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema
    .alterTable("connections")
    .addColumn("client_id", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema
    .alterTable("connections")
    .addColumn("client_secret_sealed", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema.alterTable("connections").addColumn("token_endpoint_auth_method", "text").execute();
  await db.schema
    .alterTable("connections")
    .addColumn("scopes", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema
    .alterTable("connections")
    .addColumn("email_claim", "text", (c) => c.notNull().defaultTo("email"))
    .execute();
  await db.schema
    .alterTable("connections")
    .addColumn("clock_skew_seconds", "integer", (c) => c.notNull().defaultTo(60))
    .execute();
  await db.schema.alterTable("connections").addColumn("signing_key_sealed", "text").execute();
  await db.schema.alterTable("connections").addColumn("signing_kid", "text").execute();
  await db.schema.alterTable("connections").addColumn("id_token_issuer", "text").execute();
  await db.schema
    .alterTable("connections")
    .addColumn("allowed_tenants", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  for (const column of OIDC_COLUMNS) {
    await sql`update connections set ${sql.ref(column)} = (
      select ${sql.ref(`connection_oidc.${column}`)} from connection_oidc
      where connection_oidc.connection_id = connections.id)`.execute(db);
  }
  await db.schema.dropTable("connection_oidc").execute();
}
