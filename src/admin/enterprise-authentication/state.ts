import type { ConnectionStatus } from "../../store/schema.js";

export type IntegrationState = "not-connected" | "enabled" | "disabled";

/** One word for an integration with any number of connections: enabled wins over disabled. */
export function integrationState(connections: readonly { status: ConnectionStatus }[]): IntegrationState {
  if (connections.length === 0) return "not-connected";
  return connections.some((c) => c.status === "enabled") ? "enabled" : "disabled";
}

export const stateLabel: Record<IntegrationState, string> = {
  "not-connected": "Not connected",
  enabled: "Enabled",
  disabled: "Disabled",
};

export const stateBadge: Record<IntegrationState, string> = {
  "not-connected": "badge badge-neutral",
  enabled: "badge badge-success",
  disabled: "badge badge-warning",
};
