import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { hitRateLimit } from "../store/rate-limits.js";

const MINUTE_MS = 60_000;

/**
 * Per-IP limit on sign-in flows (SSO and LinkedIn, start and callback), counted in the
 * database so every instance shares it: a script cannot fill the login-transaction table or
 * make Gatehouse hammer a customer's identity provider.
 */
export async function limitSignInFlows(
  ctx: AppContext,
  ip: string,
  step: "start" | "callback",
): Promise<void> {
  const { count, resetAt } = await hitRateLimit(ctx.store.db, `sso:${step}:ip:${ip}`, MINUTE_MS, ctx.now());
  if (count > ctx.config.ssoAttemptsPerIpPerMinute) {
    throw new GatehouseError("AUTH_RATE_LIMITED", "Too many sign-in attempts from this network.", {
      detail: `${count} sign-in ${step}s from ${ip} this minute (limit ${ctx.config.ssoAttemptsPerIpPerMinute}); resets in ${Math.ceil((resetAt - ctx.now()) / 1000)} s`,
    });
  }
}
