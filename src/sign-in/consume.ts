import type { FastifyRequest } from "fastify";
import { hashToken, safeEqual } from "../crypto/tokens.js";
import { safeReturnTo } from "../domain/return-to.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { type Connection, findConnectionById } from "../store/connections.js";
import { consumeLoginTransaction, type LoginTransaction } from "../store/login-transactions.js";
import type { SignInAdapter, SignInResponse, SignInTransaction } from "./adapter.js";
import { readBrowserHash } from "./browser-binding.js";
import { limitSignInCallbacks } from "./rate-limit.js";

/** What is known of the attempt before the adapter runs, for the audit entry of a refusal. */
export interface OpenedSignIn {
  transaction: SignInTransaction;
  /** The transaction's connection as it is now; undefined when deleted or for LinkedIn. */
  connection: Connection | undefined;
}

function refused(
  code:
    | "SSO_STATE_MISSING"
    | "SSO_STATE_UNKNOWN"
    | "SSO_STATE_REPLAYED"
    | "SSO_STATE_EXPIRED"
    | "SSO_BROWSER_MISMATCH",
  message: string,
  detail: string,
  expected: string,
  received: string,
): GatehouseError {
  return new GatehouseError(code, message, { detail, check: { check: "state", expected, received } });
}

/** What the pipeline learned before a refusal, for its audit entry. */
export interface FoundSoFar {
  /** The transaction's connection as it is now. */
  connection?: Connection | undefined;
  /** The address the person typed to start, unverified: who a refusal is probably about. */
  loginHint?: string | undefined;
  /** Where the sign-in was to land (an application's request, say): a refusal's next step keeps it. */
  returnTo?: string | undefined;
}

/**
 * The pipeline's first step, the same for every protocol: the handle present, its transaction
 * known, of this protocol, not yet used, not expired, begun by this browser. Consumed before
 * anything else, so a handle works once even if a later check fails; an answer without a fresh
 * handle counts against the address's per-minute limit on flows.
 */
export async function consumeSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  adapter: SignInAdapter,
  response: SignInResponse,
  found: FoundSoFar,
  /** The connection whose own endpoint received the answer (a per-connection ACS URL). */
  routeConnectionId?: string,
): Promise<OpenedSignIn> {
  let handle: string | undefined;
  try {
    handle = adapter.readHandle(response);
  } catch (error) {
    await limitSignInCallbacks(ctx, request.ip);
    throw error;
  }
  if (!handle) {
    await limitSignInCallbacks(ctx, request.ip);
    const unsolicited = routeConnectionId
      ? await openUnsolicited(ctx, adapter, response, routeConnectionId, found)
      : undefined;
    if (unsolicited) return unsolicited;
    throw refused(
      "SSO_STATE_MISSING",
      "The sign-in response has no state.",
      "callback without a state parameter",
      "a state",
      "(absent)",
    );
  }
  const consumed = await consumeLoginTransaction(ctx.store.db, hashToken(handle), ctx.now());
  // A fresh handle was counted against the address's limit when its flow began; anything else
  // (guessed, replayed, another protocol's) is counted here, and refused once over the limit.
  // A test of unsaved values has no connection row yet: the endpoint its answer came to is
  // matched against the connection the test would make, when the test is opened (test-sign-in.ts).
  const ours =
    consumed !== undefined &&
    consumed.tx.protocol === adapter.protocol &&
    (routeConnectionId === undefined ||
      consumed.tx.connection_id === routeConnectionId ||
      (consumed.tx.connection_id === null && consumed.tx.purpose === "test"));
  if (!ours || consumed.alreadyConsumed) await limitSignInCallbacks(ctx, request.ip);
  if (!ours) {
    throw refused(
      "SSO_STATE_UNKNOWN",
      "This sign-in is not known.",
      "no login transaction for this state",
      "a sign-in begun here",
      "unknown",
    );
  }
  const tx = consumed.tx;
  found.loginHint = tx.login_hint ?? undefined;
  if (tx.purpose === "sign_in") found.returnTo = tx.return_to;
  const connection = tx.connection_id ? await findConnectionById(ctx.store.db, tx.connection_id) : undefined;
  found.connection = connection;
  if (consumed.alreadyConsumed) {
    throw refused(
      "SSO_STATE_REPLAYED",
      "This sign-in was already completed.",
      "state already used",
      "not used before",
      "already used",
    );
  }
  const now = ctx.now();
  if (tx.expires_at <= now) {
    const ago = Math.round((now - tx.expires_at) / 1000);
    throw refused(
      "SSO_STATE_EXPIRED",
      "This sign-in expired.",
      `login transaction expired ${ago} s ago`,
      "within 10 minutes",
      `expired ${ago} s ago`,
    );
  }
  const browserHash = readBrowserHash(ctx, request);
  if (!browserHash || !safeEqual(browserHash, tx.browser_hash)) {
    throw refused(
      "SSO_BROWSER_MISMATCH",
      "This sign-in was started in another browser.",
      browserHash
        ? "browser-binding cookie differs from the one that started the flow"
        : "no browser-binding cookie",
      "the browser that began it",
      browserHash ? "another browser" : "no browser-binding cookie",
    );
  }
  return { transaction: toSignInTransaction(tx), connection };
}

/**
 * An answer without a handle at a connection's own endpoint (IdP-initiated), when the
 * connection's adapter accepts one there: a transaction of the pipeline's own making, already
 * spent. Replay protection is then the adapter's alone (SAML: every assertion ID remembered).
 */
async function openUnsolicited(
  ctx: AppContext,
  adapter: SignInAdapter,
  response: SignInResponse,
  connectionId: string,
  found: FoundSoFar,
): Promise<OpenedSignIn | undefined> {
  if (!adapter.acceptsUnsolicited) return undefined;
  const connection = await findConnectionById(ctx.store.db, connectionId);
  if (connection?.protocol !== adapter.protocol) return undefined;
  found.connection = connection;
  if (!adapter.acceptsUnsolicited({ connection, saved: true })) return undefined;
  const now = ctx.now();
  const transaction: SignInTransaction = {
    id: "",
    protocol: adapter.protocol,
    connectionId,
    browserHash: "",
    // The IdP chose this, not the person's browser: the same rule as any `return_to`, applied
    // here whatever the adapter returns, so no adapter can open a redirect to another origin.
    returnTo: safeReturnTo(adapter.unsolicitedReturnTo?.(response), "/"),
    purpose: "sign_in",
    connectionTestId: null,
    reauthenticate: false,
    createdAt: now,
    expiresAt: now,
    payload: null,
  };
  return { transaction, connection };
}

function toSignInTransaction(tx: LoginTransaction): SignInTransaction {
  let payload: unknown = null;
  try {
    payload = JSON.parse(tx.payload);
  } catch {
    // A payload that does not parse is the adapter's to refuse, like any it does not recognise.
  }
  return {
    id: tx.id,
    protocol: tx.protocol,
    connectionId: tx.connection_id,
    browserHash: tx.browser_hash,
    returnTo: tx.return_to,
    purpose: tx.purpose,
    connectionTestId: tx.connection_test_id,
    reauthenticate: tx.reauthenticate === 1,
    createdAt: tx.created_at,
    expiresAt: tx.expires_at,
    payload,
  };
}
