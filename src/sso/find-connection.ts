import { connectionRoutesSignIns } from "../domain/organization-domains.js";
import type { SsoRoute } from "../domain/sso-routing.js";
import type { AppContext } from "../server/context.js";
import { type Connection, findEnabledConnectionForDomain, listConnections } from "../store/connections.js";
import { findOrganizationBySlug, type Organization } from "../store/organizations.js";

export type FoundConnection =
  | { kind: "connection"; connection: Connection; loginHint: string | undefined }
  /** The organization's sign-in URL named no connection and it has several: the person picks. */
  | { kind: "choice"; organization: Organization; connections: Connection[] }
  | { kind: "none" };

/**
 * The lookup behind `/sso/start`, after the rate limit (src/sign-in/rate-limit.ts). A connection
 * routes only when it is enabled and at least one of its domains is verified by its
 * organization: one with none signs no one in (the callback would refuse every email it
 * asserts), so the browser is not sent to its IdP at all.
 */
export async function findConnectionForRoute(ctx: AppContext, route: SsoRoute): Promise<FoundConnection> {
  const now = ctx.now();
  switch (route.by) {
    case "email":
    case "domain": {
      const connection = await findEnabledConnectionForDomain(ctx.store.db, route.domain, now);
      if (!connection) return { kind: "none" };
      return { kind: "connection", connection, loginHint: route.by === "email" ? route.email : undefined };
    }
    case "organization": {
      const organization = await findOrganizationBySlug(ctx.store.db, route.slug);
      if (!organization) return { kind: "none" };
      const usable = (await listConnections(ctx.store.db, organization.id)).filter((c) =>
        connectionRoutesSignIns(c, now),
      );
      const wanted = route.connectionName?.toLowerCase();
      const matching = wanted === undefined ? usable : usable.filter((c) => c.name.toLowerCase() === wanted);
      const [only] = matching;
      if (!only) return { kind: "none" };
      if (matching.length === 1) return { kind: "connection", connection: only, loginHint: undefined };
      return { kind: "choice", organization, connections: matching };
    }
    default:
      return { kind: "none" };
  }
}
