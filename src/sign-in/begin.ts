import type { FastifyReply, FastifyRequest } from "fastify";
import { hashToken, randomToken } from "../crypto/tokens.js";
import { returnToAsksFreshSignIn } from "../domain/application-request.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import type { Connection } from "../store/connections.js";
import { countOpenTransactionsForBrowser, insertLoginTransaction } from "../store/login-transactions.js";
import type { BrowserStep, SignInAdapter, SignInTarget } from "./adapter.js";
import { browserBinding } from "./browser-binding.js";
import { sendBrowserStep } from "./browser-step.js";
import { limitSignInStarts } from "./rate-limit.js";

/** A sign-in must come back within this time (the 10 minutes). */
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;
/** Enough for a few tabs; more is a script filling the table. */
export const MAX_OPEN_TRANSACTIONS_PER_BROWSER = 5;

export interface BeginOptions {
  returnTo: string;
  loginHint?: string | undefined;
  /** The IdP signs the person in afresh (see BeginInput). */
  reauthenticate?: boolean | undefined;
  /** A test sign-in: the answer is checked and reported, and starts no session. */
  test?: { id: string; expiresAt: number; connectionId: string | null } | undefined;
}

/**
 * Begins a sign-in with any protocol: the per-address and per-browser limits, a handle (32
 * random bytes) the adapter sends to the IdP, and a server-side transaction found by the
 * handle's hash, bound to this browser, holding what the adapter keeps until the answer.
 */
export async function beginSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  adapter: SignInAdapter,
  target: SignInTarget,
  options: BeginOptions,
): Promise<BrowserStep> {
  await limitSignInStarts(ctx, request, TRANSACTION_TTL_MS);
  const now = ctx.now();
  const { browserHash, fresh } = browserBinding(ctx, request, reply);
  // A browser that has just been given its id has no sign-in open yet.
  const open = fresh ? 0 : await countOpenTransactionsForBrowser(ctx.store.db, browserHash, now);
  if (open >= MAX_OPEN_TRANSACTIONS_PER_BROWSER) {
    throw new GatehouseError("AUTH_RATE_LIMITED", "Too many sign-ins in progress in this browser.", {
      detail: `${open} open login transactions for this browser`,
    });
  }
  const handle = randomToken(32);
  // An application's prompt=login or max_age, whichever page the person took to get here.
  const reauthenticate = options.reauthenticate === true || returnToAsksFreshSignIn(options.returnTo);
  const begun = await adapter.begin(target, { handle, loginHint: options.loginHint, reauthenticate, now });
  await insertLoginTransaction(ctx.store.db, {
    id: hashToken(handle),
    protocol: adapter.protocol,
    // A test of unsaved values has no connection row yet.
    connection_id: options.test ? options.test.connectionId : (target.connection?.id ?? null),
    browser_hash: browserHash,
    return_to: options.returnTo,
    created_at: now,
    expires_at: Math.min(
      now + TRANSACTION_TTL_MS,
      begun.expiresAt ?? Number.POSITIVE_INFINITY,
      options.test?.expiresAt ?? Number.POSITIVE_INFINITY,
    ),
    consumed_at: null,
    purpose: options.test ? "test" : "sign_in",
    connection_test_id: options.test?.id ?? null,
    payload: JSON.stringify(begun.payload),
    login_hint: options.loginHint ?? null,
    reauthenticate: reauthenticate ? 1 : 0,
  });
  return begun.step;
}

/** Sends the browser to a saved connection's IdP for a real sign-in that comes back to `returnTo`. */
export async function sendToConnection(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  connection: Connection,
  options: Pick<BeginOptions, "returnTo" | "loginHint" | "reauthenticate">,
  status: 302 | 303 = 302,
): Promise<FastifyReply> {
  const adapter = ctx.signIn.forConnection(ctx, connection);
  const step = await beginSignIn(ctx, request, reply, adapter, { connection, saved: true }, options);
  return sendBrowserStep(reply, step, status);
}
