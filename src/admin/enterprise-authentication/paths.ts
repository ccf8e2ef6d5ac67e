import type { AppContext } from "../../server/context.js";
import { listConnections } from "../../store/connections.js";
import { adminPaths } from "../components.js";

/** The protocols the admin console has pages for; each connection's pages live under its own. */
export type AdminProtocol = "oidc" | "saml";

const segment = (id: string) => (id === ":id" ? id : encodeURIComponent(id));

/** A connection's own pages, under its protocol (Open ID Connect by default); `":id"` gives the route pattern. */
export const connectionPaths = {
  page: (id: string, protocol: AdminProtocol = "oidc") => `${adminPaths[protocol]}/${segment(id)}`,
  edit: (id: string, protocol: AdminProtocol = "oidc") => `${adminPaths[protocol]}/${segment(id)}/edit`,
  test: (id: string, protocol: AdminProtocol = "oidc") => `${adminPaths[protocol]}/${segment(id)}/test`,
  new: `${adminPaths.oidc}/new`,
  newOf: (protocol: AdminProtocol) => `${adminPaths[protocol]}/new`,
};

/**
 * Where a connection's page is: `/oidc` itself while it is the organization's only connection
 * (the seed's page, with Delete at the bottom), its own path once there are several. A SAML
 * connection's page is always its own: `/saml` shows what to copy before any is created.
 */
export async function connectionHome(
  ctx: AppContext,
  organizationId: string,
  connectionId: string,
  protocol: AdminProtocol = "oidc",
): Promise<string> {
  if (protocol === "saml") return connectionPaths.page(connectionId, "saml");
  const connections = await listConnections(ctx.store.db, organizationId, { limit: 2 });
  return connections.length === 1 && connections[0]?.id === connectionId
    ? adminPaths.oidc
    : connectionPaths.page(connectionId);
}
