import type { AppContext } from "../../server/context.js";
import { listConnections } from "../../store/connections.js";
import { adminPaths } from "../components.js";

/** A connection's own pages; `":id"` gives the route pattern. */
export const connectionPaths = {
  page: (id: string) => `${adminPaths.oidc}/${id === ":id" ? id : encodeURIComponent(id)}`,
  edit: (id: string) => `${adminPaths.oidc}/${id === ":id" ? id : encodeURIComponent(id)}/edit`,
  new: `${adminPaths.oidc}/new`,
};

/**
 * Where a connection's page is: `/oidc` itself while it is the organization's only connection
 * (the seed's page, with Delete at the bottom), its own path once there are several.
 */
export async function connectionHome(
  ctx: AppContext,
  organizationId: string,
  connectionId: string,
): Promise<string> {
  const connections = await listConnections(ctx.store.db, organizationId, { limit: 2 });
  return connections.length === 1 && connections[0]?.id === connectionId
    ? adminPaths.oidc
    : connectionPaths.page(connectionId);
}
