import { verifyDecoy, verifyPassword } from "../crypto/password.js";
import { normalizeEmail } from "../domain/email.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { clearRateLimit, forgiveRateLimitHit, hitRateLimit } from "../store/rate-limits.js";
import { findPasswordLogin } from "../store/users.js";
import { checkSsoEnforcement } from "./enforcement.js";

export interface PasswordAttempt {
  email: string;
  password: string;
  ip: string;
}

export type PasswordResult =
  | { ok: true; userId: string; organizationId: string | null; email: string }
  | { ok: false; code: "AUTH_INVALID_CREDENTIALS" }
  | { ok: false; code: "AUTH_RATE_LIMITED"; retryAfterSeconds: number }
  | { ok: false; code: "AUTH_SSO_REQUIRED"; email: string; organizationName: string };

/**
 * Password sign-in, checks in order: rate limits (per account and per IP, counted in the
 * database so every instance shares them), SSO enforcement for the email's domain, then the
 * password. Unknown accounts cost the same time as wrong passwords.
 */
export async function signInWithPassword(ctx: AppContext, attempt: PasswordAttempt): Promise<PasswordResult> {
  const now = ctx.now();
  const email = normalizeEmail(attempt.email);
  const windowMs = ctx.config.rateLimitWindowSeconds * 1000;
  const accountKey = `password:account:${email ?? attempt.email.trim().toLowerCase()}`;
  const ipKey = `password:ip:${attempt.ip}`;
  const [account, ip] = await Promise.all([
    hitRateLimit(ctx.store.db, accountKey, windowMs, now),
    hitRateLimit(ctx.store.db, ipKey, windowMs, now),
  ]);
  if (account.count > ctx.config.passwordAttemptsPerAccount || ip.count > ctx.config.passwordAttemptsPerIp) {
    const resetAt = Math.max(
      account.count > ctx.config.passwordAttemptsPerAccount ? account.resetAt : 0,
      ip.count > ctx.config.passwordAttemptsPerIp ? ip.resetAt : 0,
    );
    await audit(ctx, {
      email: email ?? null,
      reasonCode: "AUTH_RATE_LIMITED",
      ip: attempt.ip,
      detail: { limit: account.count > ctx.config.passwordAttemptsPerAccount ? "account" : "ip" },
    });
    ctx.metrics.signIns.inc({ method: "password", outcome: "failure" });
    return { ok: false, code: "AUTH_RATE_LIMITED", retryAfterSeconds: Math.ceil((resetAt - now) / 1000) };
  }

  if (!email) {
    await verifyDecoy(attempt.password);
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
  const valid = login?.passwordHash
    ? await verifyPassword(login.passwordHash, attempt.password)
    : await verifyDecoy(attempt.password);
  if (!login || !valid) {
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
  // Many colleagues share one office address: only failures may use up its allowance.
  await forgiveRateLimitHit(ctx.store.db, ipKey, windowMs, now);
  await audit(ctx, {
    email,
    userId: login.userId,
    organizationId: login.organizationId,
    outcome: "success",
    ip: attempt.ip,
  });
  ctx.metrics.signIns.inc({ method: "password", outcome: "success" });
  return { ok: true, userId: login.userId, organizationId: login.organizationId, email };
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
