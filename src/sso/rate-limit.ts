import { clientNetwork } from "../domain/client-network.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { hitRateLimit } from "../store/rate-limits.js";

const MINUTE_MS = 60_000;

/**
 * Per-address limit on sign-in flows (SSO and LinkedIn, start and callback; an IPv6 /64
 * counts as one address), counted in the
 * database so every instance shares it: a script cannot fill the login-transaction table or
 * make Gatehouse hammer a customer's identity provider.
 */
export async function limitSignInFlows(
  ctx: AppContext,
  ip: string,
  step: "start" | "callback",
): Promise<void> {
  const network = clientNetwork(ip);
  const { count, resetAt } = await hitRateLimit(
    ctx.store.db,
    `sso:${step}:net:${network}`,
    MINUTE_MS,
    ctx.now(),
  );
  if (count > ctx.config.ssoAttemptsPerIpPerMinute) {
    throw new GatehouseError("AUTH_RATE_LIMITED", "Too many sign-in attempts from this network.", {
      detail: `${count} sign-in ${step}s from ${ip} this minute (limit ${ctx.config.ssoAttemptsPerIpPerMinute} per ${network}); resets in ${Math.ceil((resetAt - ctx.now()) / 1000)} s`,
    });
  }
}

/** Sign-ins one address may start within a transaction's lifetime, whatever its cookies. */
export const MAX_OPEN_TRANSACTIONS_PER_NETWORK = 100;

/**
 * A script that drops cookies gets a fresh browser binding each time and so escapes the
 * per-browser cap on open sign-ins; this one counts every start from the address instead.
 */
export async function limitOpenTransactions(ctx: AppContext, ip: string, windowMs: number): Promise<void> {
  const network = clientNetwork(ip);
  const { count } = await hitRateLimit(ctx.store.db, `sso:open:net:${network}`, windowMs, ctx.now());
  if (count > MAX_OPEN_TRANSACTIONS_PER_NETWORK) {
    throw new GatehouseError("AUTH_RATE_LIMITED", "Too many sign-ins in progress from this network.", {
      detail: `${count} sign-ins started from ${network} (limit ${MAX_OPEN_TRANSACTIONS_PER_NETWORK})`,
    });
  }
}
