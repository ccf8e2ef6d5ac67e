import { recheckDomains } from "../domains/recheck.js";
import { deleteExpiredApplicationSignIns } from "../store/application-sign-ins.js";
import { purgeAuditEvents } from "../store/audit.js";
import { purgeConnectionTests } from "../store/connection-tests.js";
import { purgeIdempotencyKeys } from "../store/idempotency-keys.js";
import { purgeLoginTransactions } from "../store/login-transactions.js";
import { deleteExpiredProviderRecords } from "../store/provider-records.js";
import { purgeRateLimits } from "../store/rate-limits.js";
import { purgeAssertionIds } from "../store/saml-assertion-ids.js";
import { deleteExpiredSessions } from "../store/sessions.js";
import type { AppContext } from "./context.js";

const INTERVAL_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/**
 * Removes rows that can no longer matter: expired sessions, login transactions a day past
 * expiry (kept that long so a replayed state is still recognised as a replay), and rate-limit
 * counters of past windows, and audit events older than GATEHOUSE_AUDIT_RETENTION_DAYS (0 keeps
 * them). Every instance may run it; the deletes are idempotent.
 */
export async function purgeExpired(
  ctx: AppContext,
): Promise<{ sessions: number; transactions: number; rateLimits: number; auditEvents: number }> {
  const now = ctx.now();
  const sessions = await deleteExpiredSessions(ctx.store.db, now);
  const transactions = await purgeLoginTransactions(ctx.store.db, now);
  const rateLimits = await purgeRateLimits(ctx.store.db, now - DAY_MS);
  // OpenID Provider codes, tokens and sessions past expiry; a lookup already ignores them.
  await deleteExpiredProviderRecords(ctx.store.db, now);
  await deleteExpiredApplicationSignIns(ctx.store.db, now);
  // Test sign-ins: unsaved values and their sealed secret at 10 minutes, the rest a day later.
  await purgeConnectionTests(ctx.store.db, now);
  // Answers kept for Idempotency-Key retries, after their 24 hours.
  await purgeIdempotencyKeys(ctx.store.db, now);
  // SAML assertion IDs once their assertion has expired: a replay fails the time checks first.
  await purgeAssertionIds(ctx.store.db, now);
  const retentionDays = ctx.config.auditRetentionDays;
  const auditEvents =
    retentionDays > 0 ? await purgeAuditEvents(ctx.store.db, now - retentionDays * DAY_MS) : 0;
  return { sessions, transactions, rateLimits, auditEvents };
}

/**
 * Runs `purgeExpired` and the domains' re-verification now and every ten minutes until the
 * returned function is called. A run still going when the next one is due is not doubled.
 */
export function startMaintenance(ctx: AppContext): () => void {
  let recheckRunning = false;
  const run = () => {
    purgeExpired(ctx).then(
      (counts) => ctx.log.debug(counts, "purged expired rows"),
      (error: unknown) => ctx.log.warn({ err: error }, "purging expired rows failed; will retry"),
    );
    if (recheckRunning) return;
    recheckRunning = true;
    recheckDomains(ctx)
      .then(
        (summary) => {
          if (summary.checked > 0) ctx.log.info(summary, "re-verified domains");
        },
        (error: unknown) => ctx.log.warn({ err: error }, "re-verifying domains failed; will retry"),
      )
      .finally(() => {
        recheckRunning = false;
      });
  };
  run();
  const timer = setInterval(run, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
