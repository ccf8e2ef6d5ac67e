import assert from "node:assert/strict";
import { test } from "node:test";
import type { Kysely } from "kysely";
import {
  type AuditEvent,
  type AuditInput,
  auditRow,
  insertAuditEvent,
  insertAuditEvents,
  listAuditEvents,
} from "../../src/store/audit.js";
import type { Database } from "../../src/store/schema.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { minute, seedOrganization, t0 } from "./fixtures.js";

test("auditRow fills every column, serialising the detail and defaulting the rest to null", () => {
  const row = auditRow({ type: "sign_out", detail: { reason: "user" } }, t0);
  assert.match(row.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    { ...row, id: "x" },
    {
      id: "x",
      organization_id: null,
      type: "sign_out",
      outcome: null,
      actor_user_id: null,
      user_id: null,
      connection_id: null,
      email: null,
      subject: null,
      reason_code: null,
      detail: '{"reason":"user"}',
      trace_id: null,
      ip: null,
      created_at: t0,
    },
  );
});

withEachDatabase("store: audit events", (dialect) => {
  const database = useFreshDatabase(dialect);

  async function insertAt(
    db: Kysely<Database>,
    organizationId: string,
    at: number,
    input: Partial<AuditInput> = {},
  ) {
    await insertAuditEvent(
      db,
      { type: "sign_in.password", organizationId, outcome: "success", ...input },
      at,
    );
  }

  const summary = (events: AuditEvent[]) =>
    events.map((e) => `${e.type}/${e.outcome}@${Date.parse(e.createdAt) - t0}`);

  test("an event round-trips every field, its detail as JSON", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const detail = {
      issuer: "https://idp.example.test",
      domains: ["acme.test"],
      nested: { n: 1, ok: true, none: null },
    };
    await insertAuditEvent(
      db,
      {
        type: "sign_in.sso",
        organizationId: acme.id,
        outcome: "failure",
        actorUserId: "actor-1",
        userId: "user-1",
        connectionId: "connection-1",
        email: "ada@acme.test",
        subject: "sub-1",
        reasonCode: "SSO_ISSUER_MISMATCH",
        detail,
        traceId: "ABCDEF0123",
        ip: "203.0.113.7",
      },
      t0,
    );
    const [event, ...rest] = await listAuditEvents(db, { organizationId: acme.id, limit: 10 });
    assert.equal(rest.length, 0);
    assert.deepEqual(event, {
      id: event?.id,
      type: "sign_in.sso",
      outcome: "failure",
      actorUserId: "actor-1",
      userId: "user-1",
      connectionId: "connection-1",
      email: "ada@acme.test",
      subject: "sub-1",
      reasonCode: "SSO_ISSUER_MISMATCH",
      detail,
      traceId: "ABCDEF0123",
      ip: "203.0.113.7",
      createdAt: new Date(t0).toISOString(),
    });
  });

  test("several events in one statement keep each its own values, for every count, prepared or not", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    // The statements of one to four rows are built once and reused with new values; five and
    // more are built per call. Each count runs twice, so a reused statement must bind afresh.
    let inserted = 0;
    for (const count of [1, 2, 3, 4, 5, 3, 1, 5]) {
      const inputs: AuditInput[] = Array.from({ length: count }, (_, i) => {
        const n = inserted + i;
        return {
          type: n % 2 === 0 ? "sign_in.sso" : "user.provisioned",
          organizationId: acme.id,
          outcome: n % 3 === 0 ? "failure" : "success",
          userId: `user-${n}`,
          email: n % 2 === 0 ? `person-${n}@acme.test` : null,
          detail: n % 4 === 0 ? { n } : null,
          ip: `203.0.113.${n}`,
        };
      });
      await insertAuditEvents(db, inputs, t0 + inserted);
      inserted += count;
    }
    const events = await listAuditEvents(db, { organizationId: acme.id, limit: 100 });
    assert.equal(events.length, inserted);
    assert.equal(new Set(events.map((e) => e.id)).size, inserted, "every event its own id");
    for (const event of events) {
      const n = Number(event.userId?.slice("user-".length));
      assert.equal(event.type, n % 2 === 0 ? "sign_in.sso" : "user.provisioned", `event ${n}`);
      assert.equal(event.outcome, n % 3 === 0 ? "failure" : "success", `event ${n}`);
      assert.equal(event.email, n % 2 === 0 ? `person-${n}@acme.test` : null, `event ${n}`);
      assert.deepEqual(event.detail, n % 4 === 0 ? { n } : null, `event ${n}`);
      assert.equal(event.ip, `203.0.113.${n}`, `event ${n}`);
      assert.ok(Date.parse(event.createdAt) - t0 <= n, `event ${n}`);
    }
  });

  test("an event without detail lists detail null", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await insertAt(db, acme.id, t0);
    const [event] = await listAuditEvents(db, { organizationId: acme.id, limit: 1 });
    assert.equal(event?.detail, null);
    assert.equal(event?.reasonCode, null);
  });

  test("events are listed newest first, only the organization's own, up to the limit", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    await insertAt(db, acme.id, t0 + 1 * minute, { type: "organization.created" });
    await insertAt(db, acme.id, t0 + 3 * minute, { type: "sign_out" });
    await insertAt(db, acme.id, t0 + 2 * minute, { type: "sign_in.password" });
    await insertAt(db, globex.id, t0 + 4 * minute, { type: "sign_in.password" });
    await insertAuditEvent(db, { type: "sign_in.password", outcome: "failure" }, t0 + 5 * minute);

    assert.deepEqual(summary(await listAuditEvents(db, { organizationId: acme.id, limit: 10 })), [
      `sign_out/success@${3 * minute}`,
      `sign_in.password/success@${2 * minute}`,
      `organization.created/success@${1 * minute}`,
    ]);
    assert.equal((await listAuditEvents(db, { organizationId: acme.id, limit: 2 })).length, 2);
  });

  test("events filter by connection, outcome and type, alone and together", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await insertAt(db, acme.id, t0 + 1, { type: "sign_in.sso", connectionId: "c-1", outcome: "success" });
    await insertAt(db, acme.id, t0 + 2, { type: "sign_in.sso", connectionId: "c-1", outcome: "failure" });
    await insertAt(db, acme.id, t0 + 3, {
      type: "connection.disabled",
      connectionId: "c-1",
      outcome: "success",
    });
    await insertAt(db, acme.id, t0 + 4, { type: "sign_in.sso", connectionId: "c-2", outcome: "failure" });
    await insertAt(db, acme.id, t0 + 5, { type: "sign_in.password", outcome: "failure" });
    const list = async (q: { connectionId?: string; outcome?: "success" | "failure"; type?: string }) =>
      summary(await listAuditEvents(db, { organizationId: acme.id, limit: 10, ...q }));

    assert.deepEqual(await list({ connectionId: "c-1" }), [
      "connection.disabled/success@3",
      "sign_in.sso/failure@2",
      "sign_in.sso/success@1",
    ]);
    assert.deepEqual(await list({ outcome: "failure" }), [
      "sign_in.password/failure@5",
      "sign_in.sso/failure@4",
      "sign_in.sso/failure@2",
    ]);
    assert.deepEqual(await list({ type: "sign_in.sso" }), [
      "sign_in.sso/failure@4",
      "sign_in.sso/failure@2",
      "sign_in.sso/success@1",
    ]);
    assert.deepEqual(await list({ connectionId: "c-1", outcome: "failure", type: "sign_in.sso" }), [
      "sign_in.sso/failure@2",
    ]);
    assert.deepEqual(await list({ connectionId: "c-3" }), []);
  });

  test("before pages to strictly older events", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    for (let i = 1; i <= 5; i++) await insertAt(db, acme.id, t0 + i * minute);
    const first = await listAuditEvents(db, { organizationId: acme.id, limit: 2 });
    const last = first.at(-1);
    assert.ok(last);
    const second = await listAuditEvents(db, {
      organizationId: acme.id,
      limit: 2,
      before: Date.parse(last.createdAt),
    });
    assert.deepEqual(
      summary([...first, ...second]),
      [5, 4, 3, 2].map((i) => `sign_in.password/success@${i * minute}`),
    );
  });

  test("paging with before and beforeId loses no event among those sharing a millisecond", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await insertAt(db, acme.id, t0 - minute, { type: "organization.created" });
    for (let i = 0; i < 7; i++) await insertAt(db, acme.id, t0, { email: `user${i}@acme.test` });
    await insertAt(db, acme.id, t0 + minute, { type: "sign_out" });

    const seen: AuditEvent[] = [];
    let cursor: { before: number; beforeId: string } | undefined;
    for (let page = 0; page < 10; page++) {
      const events = await listAuditEvents(db, { organizationId: acme.id, limit: 3, ...cursor });
      seen.push(...events);
      const last = events.at(-1);
      if (!last) break;
      cursor = { before: Date.parse(last.createdAt), beforeId: last.id };
    }
    const all = await listAuditEvents(db, { organizationId: acme.id, limit: 100 });
    assert.equal(all.length, 9);
    assert.deepEqual(
      seen.map((e) => e.id),
      all.map((e) => e.id),
    );
    assert.equal(seen[0]?.type, "sign_out");
    assert.equal(seen.at(-1)?.type, "organization.created");
  });
});
