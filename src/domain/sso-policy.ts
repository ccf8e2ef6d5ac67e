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
