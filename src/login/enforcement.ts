import { emailDomain } from "../domain/email.js";
import { decideSignIn, type SignInDecision } from "../domain/sso-policy.js";
import type { AppContext } from "../server/context.js";
import { findEnabledConnectionForDomain } from "../store/connections.js";
import { findIdentity } from "../store/identities.js";
import type { SignInMethod } from "../store/schema.js";

export type EnforcementDecision = SignInDecision & {
  connectionId?: string;
  organizationId?: string;
  /** The address whose domain enforced: the account's, or the one the provider asserted. */
  enforcedEmail?: string;
};

/**
 * Looks up the connection that owns the email's domain and applies the SSO policy to it. Only a
 * domain its organization has verified enforces: a pending claim on `gmail.com` locks no one out.
 */
export async function checkSsoEnforcement(
  ctx: AppContext,
  email: string,
  method: SignInMethod,
  viaConnectionId?: string,
): Promise<EnforcementDecision> {
  const connection = await findEnabledConnectionForDomain(ctx.store.db, emailDomain(email), ctx.now());
  const decision = decideSignIn(method, connection, viaConnectionId);
  if (!connection || decision.allowed) return decision;
  return {
    ...decision,
    connectionId: connection.id,
    organizationId: connection.organizationId,
    enforcedEmail: email,
  };
}

/**
 * Social sign-in decides on the account the identity opens, not only on the address the
 * provider asserts today: a returning identity is found by its subject, so an address changed at
 * LinkedIn (to a personal one) must not lift the enforcement of the account's own domain, nor let
 * a person removed at the company's IdP back in. The account is found the way provisioning finds
 * it (provision.ts): by (provider, sub), else by the asserted email, which is then the same
 * address. Both addresses are checked; either one at an enforcing domain refuses.
 */
export async function checkSocialEnforcement(
  ctx: AppContext,
  providerKey: string,
  subject: string,
  assertedEmail: string,
): Promise<EnforcementDecision> {
  const known = await findIdentity(ctx.store.db, providerKey, subject);
  if (known && known.email !== assertedEmail) {
    const byAccount = await checkSsoEnforcement(ctx, known.email, "linkedin");
    if (!byAccount.allowed) return byAccount;
  }
  return checkSsoEnforcement(ctx, assertedEmail, "linkedin");
}
