import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { hashToken } from "../src/crypto/tokens.js";
import { purgeExpired } from "../src/server/maintenance.js";
import { insertAuditEvent } from "../src/store/audit.js";
import { insertLoginTransaction } from "../src/store/login-transactions.js";
import { hitRateLimit } from "../src/store/rate-limits.js";
import { insertSession } from "../src/store/sessions.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";
import { seedAcme } from "./support/sso.js";

let gh: TestGatehouse;
let userId: string;
before(async () => {
  gh = await startGatehouse();
  ({ adminUserId: userId } = await seedAcme(gh));
});
after(() => gh.close());

const HOUR = 3600_000;

test("expired sessions, day-old login transactions and past rate-limit windows are purged; live rows stay", async () => {
  const db = gh.ctx.store.db;
  const now = gh.ctx.now();
  const session = (name: string, expiresAt: number) =>
    insertSession(db, {
      idHash: hashToken(name),
      userId,
      organizationId: null,
      method: "password",
      connectionId: null,
      idTokenSealed: null,
      idpSid: null,
      createdAt: now - 10 * HOUR,
      expiresAt,
    });
  await session("expired", now - 1);
  await session("live", now + HOUR);
  const transaction = (state: string, expiresAt: number) =>
    insertLoginTransaction(db, {
      id: hashToken(state),
      protocol: "oidc",
      connection_id: null,
      browser_hash: "b",
      payload: "{}",
      return_to: "/",
      created_at: expiresAt - 600_000,
      expires_at: expiresAt,
      consumed_at: null,
    });
  // Kept a day past expiry, so a replayed state is still told apart from an unknown one.
  await transaction("expired two days ago", now - 48 * HOUR);
  await transaction("expired an hour ago", now - HOUR);
  await hitRateLimit(db, "old", 60_000, now - 48 * HOUR);
  await hitRateLimit(db, "current", 60_000, now);

  assert.deepEqual(await purgeExpired(gh.ctx), {
    sessions: 1,
    transactions: 1,
    rateLimits: 1,
    auditEvents: 0,
  });
  assert.deepEqual(
    (await db.selectFrom("sessions").select("id_hash").execute()).map((r) => r.id_hash),
    [hashToken("live")],
  );
  assert.deepEqual(
    (await db.selectFrom("login_transactions").select("id").execute()).map((r) => r.id),
    [hashToken("expired an hour ago")],
  );
  assert.deepEqual(
    (await db.selectFrom("rate_limits").select("key").execute()).map((r) => r.key),
    ["current"],
  );
  assert.deepEqual(await purgeExpired(gh.ctx), {
    sessions: 0,
    transactions: 0,
    rateLimits: 0,
    auditEvents: 0,
  });
});

test("audit events past GATEHOUSE_AUDIT_RETENTION_DAYS (400 by default) are purged; 0 keeps them", async () => {
  const db = gh.ctx.store.db;
  const now = gh.ctx.now();
  assert.equal(gh.ctx.config.auditRetentionDays, 400);
  await insertAuditEvent(db, { type: "sign_out", detail: { age: "401 days" } }, now - 401 * 24 * HOUR);
  await insertAuditEvent(db, { type: "sign_out", detail: { age: "399 days" } }, now - 399 * 24 * HOUR);
  const keepForever = { ...gh.ctx, config: { ...gh.ctx.config, auditRetentionDays: 0 } };
  assert.equal((await purgeExpired(keepForever)).auditEvents, 0);
  assert.equal((await purgeExpired(gh.ctx)).auditEvents, 1);
  const left = await db.selectFrom("audit_events").select("detail").where("type", "=", "sign_out").execute();
  assert.deepEqual(
    left.map((r) => r.detail),
    [JSON.stringify({ age: "399 days" })],
  );
});
