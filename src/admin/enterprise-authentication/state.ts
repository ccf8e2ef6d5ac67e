import { connectionRoutesSignIns, type DomainStatus } from "../../domain/organization-domains.js";
import type { ConnectionStatus } from "../../store/schema.js";

/**
 * An integration's state in one word: `enabled` only when a connection signs people in (enabled,
 * with a verified domain); `waiting` when connections are enabled but none has a verified domain
 * yet, so nobody is signed in through them.
 */
export type IntegrationState = "not-connected" | "enabled" | "waiting" | "disabled";

export function integrationState(
  connections: readonly {
    status: ConnectionStatus;
    organizationId: string;
    domainStatuses: readonly DomainStatus[];
  }[],
  now: number,
): IntegrationState {
  if (connections.length === 0) return "not-connected";
  if (connections.some((c) => connectionRoutesSignIns(c, now))) return "enabled";
  return connections.some((c) => c.status === "enabled") ? "waiting" : "disabled";
}

/** Each protocol's state, from all the organization's connections: what the overview pages show. */
export function integrationStates(
  connections: readonly (Parameters<typeof integrationState>[0][number] & { protocol: string })[],
  now: number,
): { oidcState: IntegrationState; samlState: IntegrationState } {
  return {
    oidcState: integrationState(
      connections.filter((c) => c.protocol === "oidc"),
      now,
    ),
    samlState: integrationState(
      connections.filter((c) => c.protocol === "saml"),
      now,
    ),
  };
}

export const stateLabel: Record<IntegrationState, string> = {
  "not-connected": "Not connected",
  enabled: "Enabled",
  waiting: "Enabled, no verified domain yet",
  disabled: "Disabled",
};

export const stateBadge: Record<IntegrationState, string> = {
  "not-connected": "badge badge-neutral",
  enabled: "badge badge-success",
  waiting: "badge badge-warning",
  disabled: "badge badge-warning",
};
