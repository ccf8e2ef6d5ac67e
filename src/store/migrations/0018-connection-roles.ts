import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Roles from the identity provider (src/domain/provider-roles.ts): each connection's groups
 * claim, its "group → role" rules (a JSON array) and the role of new users; and the user's
 * given and family names as the provider asserts them.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable("connections")
    .addColumn("groups_claim", "text", (c) => c.notNull().defaultTo("groups"))
    .execute();
  await db.schema
    .alterTable("connections")
    .addColumn("role_rules", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  await db.schema
    .alterTable("connections")
    .addColumn("default_role", "text", (c) => c.notNull().defaultTo("member"))
    .execute();
  await db.schema.alterTable("users").addColumn("given_name", "text").execute();
  await db.schema.alterTable("users").addColumn("family_name", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("users").dropColumn("family_name").execute();
  await db.schema.alterTable("users").dropColumn("given_name").execute();
  await db.schema.alterTable("connections").dropColumn("default_role").execute();
  await db.schema.alterTable("connections").dropColumn("role_rules").execute();
  await db.schema.alterTable("connections").dropColumn("groups_claim").execute();
}
