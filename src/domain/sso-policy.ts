import type { SignInMethod } from "../store/schema.js";

export interface EnforcingConnection {
  id: string;
  name: string;
  organizationName: string;
  status: "enabled" | "disabled";
}

export type SignInDecision =
  | { allowed: true }
  | { allowed: false; reason: "AUTH_SSO_REQUIRED"; connectionName: string; organizationName: string };

/**
 * Must this sign-in go through SSO instead? `enforcing` is the connection that owns the
 * email's domain, if any. While it is enabled, only SSO through that same connection may
 * start a session for the address; disabled or absent, every method is open.
 */
export function decideSignIn(
  method: SignInMethod,
  enforcing: EnforcingConnection | undefined,
  viaConnectionId?: string,
): SignInDecision {
  if (enforcing?.status !== "enabled") return { allowed: true };
  if (method === "sso" && viaConnectionId === enforcing.id) return { allowed: true };
  return {
    allowed: false,
    reason: "AUTH_SSO_REQUIRED",
    connectionName: enforcing.name,
    organizationName: enforcing.organizationName,
  };
}

/** How a person signs in now: the credentials they hold, read through the SSO policy. */
export interface SignInNow {
  /** The connection they must sign in through, when their domain enforces one. */
  ssoRequiredBy: EnforcingConnection | undefined;
  /** The ways that would start a session today. */
  usable: SignInMethod[];
  /** The credentials they hold that the policy refuses (a password while SSO is required). */
  refused: SignInMethod[];
  /**
   * They hold an SSO identity but no enabled connection serves their domain (it was disabled or
   * deleted): single sign-on routes only through the connection that enforces the domain.
   */
  ssoUnavailable: boolean;
}

/**
 * The People page's and the users API's answer to "how does this person sign in?": their
 * credentials as the sign-in steps would treat each one. Under an enabled enforcing connection,
 * only SSO through it works, whether or not they have used it yet; without one, SSO routes
 * nowhere and only a password or LinkedIn works.
 */
export function signInMethodsNow(
  credentials: readonly SignInMethod[],
  enforcing: EnforcingConnection | undefined,
): SignInNow {
  const required = enforcing?.status === "enabled" ? enforcing : undefined;
  const usable: SignInMethod[] = required ? ["sso"] : [];
  const refused: SignInMethod[] = [];
  let ssoUnavailable = false;
  for (const method of credentials) {
    if (usable.includes(method)) continue;
    if (method === "sso") {
      ssoUnavailable = true;
      continue;
    }
    (decideSignIn(method, required).allowed ? usable : refused).push(method);
  }
  return { ssoRequiredBy: required, usable, refused, ssoUnavailable };
}
