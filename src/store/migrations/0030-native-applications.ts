import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * `applications.application_type`: `web` (every application registered so far) or `native`
 * (OpenID Connect Dynamic Client Registration's `application_type`): a public application
 * installed on a device, whose redirect URIs follow RFC 8252 (loopback IP literals on any port,
 * private-use URI schemes in reverse-domain form, claimed https URIs).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable("applications")
    .addColumn("application_type", "text", (col) => col.notNull().defaultTo("web"))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("applications").dropColumn("application_type").execute();
}
