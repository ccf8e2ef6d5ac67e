import type { FastifyRequest } from "fastify";
import { clientNetwork } from "../domain/client-network.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { hitRateLimit, hitRateLimits } from "../store/rate-limits.js";

const MINUTE_MS = 60_000;

/*
 * Per-address limits on sign-in flows (SSO and LinkedIn; an IPv6 /64 counts as one address),
 * counted in the database so every instance shares them: a script cannot fill the
 * login-transaction table or make Gatehouse hammer a customer's identity provider.
 */

const countedStarts = new WeakSet<FastifyRequest>();

/**
 * A start counts against two limits: flows per minute, and sign-ins started within a
 * transaction's lifetime (a script that drops cookies gets a fresh browser binding each time
 * and so escapes the per-browser cap on open sign-ins; this counts every start from the address
 * instead). With `lookup`, the request is also counted as a connection lookup (see
 * `limitConnectionLookups`) before it looks its connection up; all in one statement, and a
 * request is counted once, so the sign-in `/sso/start` then begins is not counted again.
 */
export async function limitSignInStarts(
  ctx: AppContext,
  request: FastifyRequest,
  transactionTtlMs: number,
  options: { lookup?: boolean } = {},
): Promise<void> {
  if (countedStarts.has(request)) return;
  countedStarts.add(request);
  const ip = request.ip;
  const network = clientNetwork(ip);
  const now = ctx.now();
  const flowsKey = `sso:start:net:${network}`;
  const openKey = `sso:open:net:${network}`;
  const lookupKey = lookupKeyOf(network);
  const counts = await hitRateLimits(
    ctx.store.db,
    [
      { key: flowsKey, windowMs: MINUTE_MS },
      { key: openKey, windowMs: transactionTtlMs },
      ...(options.lookup ? [{ key: lookupKey, windowMs: MINUTE_MS }] : []),
    ],
    now,
  );
  const lookups = counts.get(lookupKey);
  if (lookups) refuseOverLimit(ctx, ip, network, "lookup", lookups);
  const flows = counts.get(flowsKey);
  if (flows) refuseOverLimit(ctx, ip, network, "start", flows);
  const open = counts.get(openKey)?.count ?? 0;
  const maxOpen = ctx.config.ssoStartsPerIpPerTransactionTtl;
  if (open > maxOpen) {
    throw new GatehouseError("AUTH_RATE_LIMITED", "Too many sign-ins in progress from this network.", {
      detail: `${open} sign-ins started from ${network} (limit ${maxOpen})`,
    });
  }
}

function lookupKeyOf(network: string): string {
  return `sso:lookup:net:${network}`;
}

/**
 * Lookups of a connection by email domain or name (the email-first sign-in page, `/sso/start`)
 * count before the lookup, so that which domains and names exist cannot be enumerated faster
 * than sign-ins can be started; both entry points share one count.
 */
export async function limitConnectionLookups(ctx: AppContext, ip: string): Promise<void> {
  const network = clientNetwork(ip);
  const hit = await hitRateLimit(ctx.store.db, lookupKeyOf(network), MINUTE_MS, ctx.now());
  refuseOverLimit(ctx, ip, network, "lookup", hit);
}

/**
 * A callback that brings no open sign-in of its own (no state, an unknown or used one) counts
 * against the per-minute limit on flows. A callback with a fresh state needs no count of its
 * own: its flow was counted when it started, and its state works once.
 */
export async function limitSignInCallbacks(ctx: AppContext, ip: string): Promise<void> {
  const network = clientNetwork(ip);
  const hit = await hitRateLimit(ctx.store.db, `sso:callback:net:${network}`, MINUTE_MS, ctx.now());
  refuseOverLimit(ctx, ip, network, "callback", hit);
}

function refuseOverLimit(
  ctx: AppContext,
  ip: string,
  network: string,
  step: "start" | "callback" | "lookup",
  { count, resetAt }: { count: number; resetAt: number },
): void {
  if (count > ctx.config.ssoAttemptsPerIpPerMinute) {
    throw new GatehouseError("AUTH_RATE_LIMITED", "Too many sign-in attempts from this network.", {
      detail: `${count} sign-in ${step}s from ${ip} this minute (limit ${ctx.config.ssoAttemptsPerIpPerMinute} per ${network}); resets in ${Math.ceil((resetAt - ctx.now()) / 1000)} s`,
    });
  }
}
