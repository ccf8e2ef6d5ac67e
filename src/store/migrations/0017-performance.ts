import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Indexes for the list queries, from their plans on a loaded database (bench/README.md):
 * - The audit list filtered by type or by outcome walked every event of the organization
 *   (`audit_events_org_time_id_idx`) and dropped those that did not match: its cost grew with
 *   the organization's history. With the filter column between the organization and the time,
 *   each page is one index range in order, read in its own length.
 * - The user list read every membership row of the organization from the table for its role;
 *   with the role in the index, the memberships come from the index alone.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createIndex("audit_events_org_type_time_id_idx")
    .on("audit_events")
    .columns(["organization_id", "type", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("audit_events_org_outcome_time_id_idx")
    .on("audit_events")
    .columns(["organization_id", "outcome", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("memberships_org_user_role_idx")
    .on("memberships")
    .columns(["organization_id", "user_id", "role"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const index of [
    "audit_events_org_type_time_id_idx",
    "audit_events_org_outcome_time_id_idx",
    "memberships_org_user_role_idx",
  ]) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
}
