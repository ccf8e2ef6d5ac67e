import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import * as client from "openid-client";
import { hashToken } from "../../crypto/tokens.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { countOpenTransactionsForBrowser, insertLoginTransaction } from "../../store/login-transactions.js";
import { limitSignInStarts } from "../rate-limit.js";
import { clientConfiguration } from "./client.js";
import type { RelyingPartyTarget } from "./provider.js";
import { browserBinding } from "./transaction-cookie.js";

/** A sign-in must come back within this time (the 10 minutes). */
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;
/** Enough for a few tabs; more is a script filling the table. */
export const MAX_OPEN_TRANSACTIONS_PER_BROWSER = 5;

export interface StartOptions {
  returnTo: string;
  loginHint?: string | undefined;
}

/**
 * Starts the authorization code flow: a server-side login transaction holding state, nonce
 * and the PKCE verifier, bound to this browser, and the IdP's authorization URL to redirect to.
 */
export async function startSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  target: RelyingPartyTarget,
  options: StartOptions,
): Promise<string> {
  await limitSignInStarts(ctx, request.ip, TRANSACTION_TTL_MS);
  const config = await clientConfiguration(ctx, target);
  const now = ctx.now();
  const { browserHash, fresh } = browserBinding(ctx, request, reply);
  // A browser that has just been given its id has no sign-in open yet.
  const open = fresh ? 0 : await countOpenTransactionsForBrowser(ctx.store.db, browserHash, now);
  if (open >= MAX_OPEN_TRANSACTIONS_PER_BROWSER) {
    throw new GatehouseError("AUTH_RATE_LIMITED", "Too many sign-ins in progress in this browser.", {
      detail: `${open} open login transactions for this browser`,
    });
  }
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  await insertLoginTransaction(ctx.store.db, {
    id: hashToken(state),
    kind: target.kind,
    connection_id: target.connection?.id ?? null,
    browser_hash: browserHash,
    nonce,
    code_verifier: codeVerifier,
    return_to: options.returnTo,
    created_at: now,
    expires_at: now + TRANSACTION_TTL_MS,
    consumed_at: null,
  });
  const parameters: Record<string, string> = {
    response_type: "code",
    redirect_uri: target.redirectUri,
    scope: target.scopes,
    state,
    nonce,
    // PKCE S256 always (RFC 7636 4.2), whatever the provider advertises; hashed synchronously
    // rather than through WebCrypto's thread-pool hop.
    code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
    code_challenge_method: "S256",
  };
  if (options.loginHint) parameters.login_hint = options.loginHint;
  return client.buildAuthorizationUrl(config, parameters).toString();
}
