import { shouldRecordRefusal } from "../audit/refusals.js";
import { verifyDecoy, verifyPassword } from "../crypto/password.js";
import { clientNetwork } from "../domain/client-network.js";
import { normalizeEmail } from "../domain/email.js";
import { decidePasswordAttempt, type ThrottlePolicy } from "../domain/password-throttle.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import {
  clearRateLimit,
  forgiveRateLimitHit,
  hitRateLimit,
  peekRateLimit,
  readFailures,
  recordFailure,
} from "../store/rate-limits.js";
import { findPasswordLogin } from "../store/users.js";
import { checkSsoEnforcement } from "./enforcement.js";

export interface PasswordAttempt {
  email: string;
  password: string;
  ip: string;
  /** Accounts this browser signed in to before (known-browser.ts): not delayed by failures. */
  knownAccounts?: readonly string[];
}

export type PasswordResult =
  | { ok: true; userId: string; organizationId: string | null; email: string }
  | { ok: false; code: "AUTH_INVALID_CREDENTIALS" }
  | { ok: false; code: "AUTH_RATE_LIMITED"; retryAfterSeconds: number }
  | { ok: false; code: "AUTH_SSO_REQUIRED"; email: string; organizationName: string };

/** Password checks one address may have running at once: bounds guesses sent in parallel. */
const CHECKS_IN_FLIGHT_PER_IP = 32;
/** The same for one account, from browsers that never signed in to it. */
const CHECKS_IN_FLIGHT_PER_ACCOUNT = 4;
const IN_FLIGHT_WINDOW_MS = 60_000;

function throttlePolicy(ctx: AppContext): ThrottlePolicy {
  return {
    freeFailures: ctx.config.passwordAttemptsPerAccount,
    baseDelayMs: 30_000,
    maxDelayMs: ctx.config.rateLimitWindowSeconds * 1000,
  };
}

/**
 * Password sign-in. The checks, in order:
 * 1. the address has not used up its failures (counted in the database, shared by every
 *    instance); a limited address is refused without counting anything more;
 * 2. not too many checks from that address at once;
 * 3. SSO enforcement for the email's domain;
 * 4. the account's delay after failures, unless this browser signed in to it before;
 * 5. the password. Only this verdict counts: a wrong password (or an unknown account, which
 *    costs the same time) is one failure for the address and for the account. Refused
 *    attempts and correct passwords count nothing, so colleagues behind one office address
 *    never use up its allowance, however many sign in at once.
 */
export async function signInWithPassword(ctx: AppContext, attempt: PasswordAttempt): Promise<PasswordResult> {
  const now = ctx.now();
  const windowMs = ctx.config.rateLimitWindowSeconds * 1000;
  const network = clientNetwork(attempt.ip);
  const ipKey = `password:ip:${network}`;
  const ipFailures = await peekRateLimit(ctx.store.db, ipKey, windowMs, now);
  if (ipFailures >= ctx.config.passwordAttemptsPerIp) {
    return refuseRateLimited(ctx, attempt, "ip", windowMs - (now % windowMs));
  }
  const inFlightKey = `password:in-flight:ip:${network}`;
  const inFlight = await hitRateLimit(ctx.store.db, inFlightKey, IN_FLIGHT_WINDOW_MS, now);
  try {
    if (inFlight.count > CHECKS_IN_FLIGHT_PER_IP) {
      return await refuseRateLimited(ctx, attempt, "ip_in_flight", 1000);
    }
    return await checkPassword(ctx, attempt, now, ipKey, windowMs);
  } finally {
    await forgiveRateLimitHit(ctx.store.db, inFlightKey, IN_FLIGHT_WINDOW_MS, now);
  }
}

async function checkPassword(
  ctx: AppContext,
  attempt: PasswordAttempt,
  now: number,
  ipKey: string,
  windowMs: number,
): Promise<PasswordResult> {
  const email = normalizeEmail(attempt.email);
  if (!email) {
    await verifyDecoy(attempt.password);
    await hitRateLimit(ctx.store.db, ipKey, windowMs, now);
    ctx.metrics.signIns.inc({ method: "password", outcome: "failure" });
    return { ok: false, code: "AUTH_INVALID_CREDENTIALS" };
  }

  const enforcement = await checkSsoEnforcement(ctx, email, "password");
  if (!enforcement.allowed) {
    await audit(ctx, {
      email,
      organizationId: enforcement.organizationId ?? null,
      connectionId: enforcement.connectionId ?? null,
      reasonCode: "AUTH_SSO_REQUIRED",
      ip: attempt.ip,
      detail: { check: "sso_enforcement", connection: enforcement.connectionName },
    });
    ctx.metrics.signIns.inc({ method: "password", outcome: "failure" });
    return { ok: false, code: "AUTH_SSO_REQUIRED", email, organizationName: enforcement.organizationName };
  }

  const login = await findPasswordLogin(ctx.store.db, email);
  const accountKey = `password:account:${email}`;
  const knownBrowser = login !== undefined && (attempt.knownAccounts ?? []).includes(login.userId);
  const accountInFlightKey = `password:in-flight:account:${email}`;
  let holdsAccountSlot = false;
  try {
    if (!knownBrowser) {
      const failures = await readFailures(ctx.store.db, accountKey, windowMs, now);
      const decision = decidePasswordAttempt(failures, throttlePolicy(ctx), now);
      if (!decision.allowed)
        return await refuseRateLimited(ctx, attempt, "account", decision.retryAfterMs, email);
      holdsAccountSlot = true;
      const slot = await hitRateLimit(ctx.store.db, accountInFlightKey, IN_FLIGHT_WINDOW_MS, now);
      if (slot.count > CHECKS_IN_FLIGHT_PER_ACCOUNT)
        return await refuseRateLimited(ctx, attempt, "account_in_flight", 1000, email);
    }

    const valid = login?.passwordHash
      ? await verifyPassword(login.passwordHash, attempt.password)
      : await verifyDecoy(attempt.password);
    if (!login || !valid) {
      await recordFailure(ctx.store.db, accountKey, windowMs, now);
      await hitRateLimit(ctx.store.db, ipKey, windowMs, now);
      await audit(ctx, {
        email,
        userId: login?.userId ?? null,
        organizationId: login?.organizationId ?? null,
        reasonCode: "AUTH_INVALID_CREDENTIALS",
        ip: attempt.ip,
        detail: {
          check: login ? (login.passwordHash ? "password_mismatch" : "no_password_set") : "unknown_account",
        },
      });
      ctx.metrics.signIns.inc({ method: "password", outcome: "failure" });
      return { ok: false, code: "AUTH_INVALID_CREDENTIALS" };
    }

    await clearRateLimit(ctx.store.db, accountKey);
    await audit(ctx, {
      email,
      userId: login.userId,
      organizationId: login.organizationId,
      outcome: "success",
      ip: attempt.ip,
      detail: { knownBrowser },
    });
    ctx.metrics.signIns.inc({ method: "password", outcome: "success" });
    return { ok: true, userId: login.userId, organizationId: login.organizationId, email };
  } finally {
    if (holdsAccountSlot)
      await forgiveRateLimitHit(ctx.store.db, accountInFlightKey, IN_FLIGHT_WINDOW_MS, now);
  }
}

async function refuseRateLimited(
  ctx: AppContext,
  attempt: PasswordAttempt,
  limit: "ip" | "ip_in_flight" | "account" | "account_in_flight",
  retryAfterMs: number,
  email?: string,
): Promise<PasswordResult> {
  if (await shouldRecordRefusal(ctx, attempt.ip, "password")) {
    await audit(ctx, {
      email: email ?? null,
      reasonCode: "AUTH_RATE_LIMITED",
      ip: attempt.ip,
      detail: { limit, note: "later refusals from this address in the next 15 minutes are not recorded" },
    });
  }
  ctx.metrics.signIns.inc({ method: "password", outcome: "failure" });
  return {
    ok: false,
    code: "AUTH_RATE_LIMITED",
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  };
}

async function audit(
  ctx: AppContext,
  e: {
    email: string | null;
    userId?: string | null;
    organizationId?: string | null;
    connectionId?: string | null;
    reasonCode?: string;
    outcome?: "success";
    ip: string;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await insertAuditEvent(
    ctx.store.db,
    {
      type: "sign_in.password",
      outcome: e.outcome ?? "failure",
      email: e.email,
      userId: e.userId,
      organizationId: e.organizationId,
      connectionId: e.connectionId,
      reasonCode: e.reasonCode,
      ip: e.ip,
      detail: e.detail,
    },
    ctx.now(),
  );
}

export function assertNever(x: never): never {
  throw new GatehouseError("INTERNAL", `unexpected ${String(x)}`);
}
