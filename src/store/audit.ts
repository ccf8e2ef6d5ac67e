import type { Kysely } from "kysely";
import { newId } from "../crypto/tokens.js";
import { inBatches } from "./batches.js";
import { prepared } from "./prepared.js";
import type { AuditEventsTable, Database } from "./schema.js";

export type AuditEventType =
  | "organization.created"
  | "api_key.created"
  | "api_key.revoked"
  | "secret_key.rotated"
  | "sign_in.password"
  | "sign_in.sso"
  | "sign_in.linkedin"
  | "sign_out"
  | "sign_out.returned"
  | "sign_out.idp"
  | "connection.created"
  | "connection.deleted"
  | "connection.disabled"
  | "connection.enabled"
  | "connection.updated"
  | "connection.tested"
  | "sessions.revoked_for_connection"
  | "sessions.revoked_for_user"
  | "sessions.revoked_for_organization"
  | "user.role_changed"
  | "user.removed"
  | "invitation.created"
  | "invitation.accepted"
  | "invitation.revoked"
  | "user.provisioned"
  | "user.email_changed"
  | "user.email_conflict"
  | "sessions.revoked_for_sso"
  | "domain.added"
  | "domain.verification_checked"
  | "domain.verified"
  | "domain.failing"
  | "domain.recovered"
  | "domain.expired"
  | "domain.removed"
  | "application.created"
  | "application.deleted";

export interface AuditInput {
  type: AuditEventType;
  organizationId?: string | null | undefined;
  outcome?: "success" | "failure" | null | undefined;
  actorUserId?: string | null | undefined;
  userId?: string | null | undefined;
  connectionId?: string | null | undefined;
  email?: string | null | undefined;
  subject?: string | null | undefined;
  reasonCode?: string | null | undefined;
  detail?: Record<string, unknown> | null | undefined;
  traceId?: string | null | undefined;
  ip?: string | null | undefined;
}

export function auditRow(input: AuditInput, now: number): AuditEventsTable {
  return {
    id: newId(),
    organization_id: input.organizationId ?? null,
    type: input.type,
    outcome: input.outcome ?? null,
    actor_user_id: input.actorUserId ?? null,
    user_id: input.userId ?? null,
    connection_id: input.connectionId ?? null,
    email: input.email ?? null,
    subject: input.subject ?? null,
    reason_code: input.reasonCode ?? null,
    detail: input.detail ? JSON.stringify(input.detail) : null,
    trace_id: input.traceId ?? null,
    ip: input.ip ?? null,
    created_at: now,
  };
}

export async function insertAuditEvent(db: Kysely<Database>, input: AuditInput, now: number): Promise<void> {
  await insertAuditEvents(db, [input], now);
}

/** Several events in one statement: the steps of one action, recorded together. */
export async function insertAuditEvents(
  db: Kysely<Database>,
  inputs: readonly AuditInput[],
  now: number,
): Promise<void> {
  if (inputs.length === 0) return;
  const rows = inputs.map((input) => auditRow(input, now));
  const insert = preparedInsert(rows.length);
  if (!insert) {
    await db.insertInto("audit_events").values(rows).execute();
    return;
  }
  const args: Record<string, unknown> = {};
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as AuditEventsTable;
    for (const column of COLUMNS) args[argName(column, r)] = row[column];
  }
  await insert(db, args);
}

const COLUMNS = [
  "id",
  "organization_id",
  "type",
  "outcome",
  "actor_user_id",
  "user_id",
  "connection_id",
  "email",
  "subject",
  "reason_code",
  "detail",
  "trace_id",
  "ip",
  "created_at",
] as const satisfies readonly (keyof AuditEventsTable)[];

/** A sign-in records one to three events (the sign-in, a provisioning, an email change). */
const MAX_PREPARED_ROWS = 4;
const insertsByRows = new Map<
  number,
  (db: Kysely<Database>, args: Record<string, unknown>) => Promise<unknown>
>();

function argName(column: string, row: number): string {
  return `${column}${row}`;
}

/** The insert of `rows` events, built by Kysely once (src/store/prepared.ts); none for longer lists. */
function preparedInsert(rows: number) {
  if (rows > MAX_PREPARED_ROWS) return undefined;
  let insert = insertsByRows.get(rows);
  if (!insert) {
    const names = Array.from({ length: rows }, (_, r) => COLUMNS.map((column) => argName(column, r))).flat();
    insert = prepared(names, (db, args: Record<string, unknown>) =>
      db
        .insertInto("audit_events")
        .values(
          Array.from(
            { length: rows },
            (_, r) =>
              Object.fromEntries(
                COLUMNS.map((column) => [column, args[argName(column, r)]]),
              ) as unknown as AuditEventsTable,
          ),
        ),
    );
    insertsByRows.set(rows, insert);
  }
  return insert;
}

export interface AuditEvent {
  id: string;
  type: string;
  outcome: "success" | "failure" | null;
  actorUserId: string | null;
  userId: string | null;
  connectionId: string | null;
  email: string | null;
  subject: string | null;
  reasonCode: string | null;
  detail: Record<string, unknown> | null;
  traceId: string | null;
  ip: string | null;
  createdAt: string;
}

export interface AuditQuery {
  organizationId: string;
  connectionId?: string | undefined;
  outcome?: "success" | "failure" | undefined;
  type?: string | undefined;
  limit: number;
  /** Events strictly older than this (epoch ms), for paging. */
  before?: number | undefined;
  /**
   * With `before`: the id of the last event already shown. Events written in one step share
   * their millisecond, and a page may end among them; the rest of that millisecond, in list
   * order, comes next instead of being skipped.
   */
  beforeId?: string | undefined;
}

export async function listAuditEvents(db: Kysely<Database>, q: AuditQuery): Promise<AuditEvent[]> {
  let query = db.selectFrom("audit_events").selectAll().where("organization_id", "=", q.organizationId);
  if (q.connectionId) query = query.where("connection_id", "=", q.connectionId);
  if (q.outcome) query = query.where("outcome", "=", q.outcome);
  if (q.type) query = query.where("type", "=", q.type);
  const { before, beforeId } = q;
  if (before !== undefined && beforeId !== undefined) {
    // A row comparison, so that both databases read it as one range of
    // audit_events_org_time_id_idx rather than two scans joined by OR.
    query = query.where((eb) => eb(eb.refTuple("created_at", "id"), "<", eb.tuple(before, beforeId)));
  } else if (before !== undefined) {
    query = query.where("created_at", "<", before);
  }
  const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(q.limit).execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    outcome: r.outcome,
    actorUserId: r.actor_user_id,
    userId: r.user_id,
    connectionId: r.connection_id,
    email: r.email,
    subject: r.subject,
    reasonCode: r.reason_code,
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    traceId: r.trace_id,
    ip: r.ip,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

/** Deletes audit events created before `before` (the retention period's start); returns how many. */
export function purgeAuditEvents(db: Kysely<Database>, before: number): Promise<number> {
  // In batches along audit_events_time_idx: see inBatches.
  return inBatches(async (limit) => {
    const result = await db
      .deleteFrom("audit_events")
      .where("id", "in", (eb) =>
        eb.selectFrom("audit_events").select("id").where("created_at", "<", before).limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}
