import type { FastifyInstance } from "fastify";
import { urlFor } from "../config.js";
import { connectionRoutesSignIns } from "../domain/organization-domains.js";
import type { AppContext } from "../server/context.js";
import { listConnections } from "../store/connections.js";
import { listOrganizationUsers } from "../store/users.js";
import { registerApiKeyAdminRoutes } from "./api-keys/routes.js";
import { adminPaths, sendHtml } from "./components.js";
import { registerDomainAdminRoutes } from "./enterprise-authentication/domains-routes.js";
import { registerEnterpriseAuthenticationRoutes } from "./enterprise-authentication/routes.js";
import { integrationStates } from "./enterprise-authentication/state.js";
import { adminSession, requireAdmin } from "./guard.js";
import { overviewPage } from "./overview.js";
import { registerPeopleAdminRoutes } from "./people/routes.js";

/** Administration: every route here sits behind `requireAdmin`. */
export function registerAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(adminPaths.overview, { preHandler: requireAdmin(ctx) }, async (request, reply) => {
    const session = adminSession(request);
    const [connections, users] = await Promise.all([
      listConnections(ctx.store.db, session.organizationId),
      listOrganizationUsers(ctx.store.db, session.organizationId),
    ]);
    return sendHtml(
      reply,
      overviewPage({
        session,
        csrfToken: reply.generateCsrf(),
        ...integrationStates(connections, ctx.now()),
        userCount: users.length,
        // Shown only when it leads somewhere: an organization without a connection that routes
        // would hand out a link whose page tells people to ask for a sign-in link.
        signInUrl: connections.some((c) => connectionRoutesSignIns(c, ctx.now()))
          ? urlFor(
              ctx.config,
              `/sso/start?organization=${encodeURIComponent(session.organizationSlug ?? "")}`,
            )
          : null,
      }),
    );
  });
  registerEnterpriseAuthenticationRoutes(app, ctx);
  registerDomainAdminRoutes(app, ctx);
  registerApiKeyAdminRoutes(app, ctx);
  registerPeopleAdminRoutes(app, ctx);
}
