import { emailDomain } from "../domain/email.js";
import { decideSignIn, type SignInDecision } from "../domain/sso-policy.js";
import type { AppContext } from "../server/context.js";
import { findEnabledConnectionForDomain } from "../store/connections.js";
import type { SignInMethod } from "../store/schema.js";

/**
 * Looks up the connection that owns the email's domain and applies the SSO policy to it. Only a
 * domain its organization has verified enforces: a pending claim on `gmail.com` locks no one out.
 */
export async function checkSsoEnforcement(
  ctx: AppContext,
  email: string,
  method: SignInMethod,
  viaConnectionId?: string,
): Promise<SignInDecision & { connectionId?: string; organizationId?: string }> {
  const connection = await findEnabledConnectionForDomain(ctx.store.db, emailDomain(email), ctx.now());
  const decision = decideSignIn(method, connection, viaConnectionId);
  if (!connection || decision.allowed) return decision;
  return { ...decision, connectionId: connection.id, organizationId: connection.organizationId };
}
