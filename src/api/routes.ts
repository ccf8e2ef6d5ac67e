import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { listAuditEvents } from "../store/audit.js";
import { listOrganizationUsers } from "../store/users.js";
import { registerApiKeyRoutes } from "./api-keys.js";
import { registerApplicationRoutes } from "./applications.js";
import { apiAuthentication, apiCaller, callerOrganizationId } from "./auth.js";
import { registerConnectionRoutes } from "./connections.js";
import { parseEventsQuery } from "./input.js";
import { openApiDocument } from "./openapi.js";
import { registerOrganizationRoutes, registerPeopleRoutes } from "./people.js";

export const API_PREFIX = "/api/v1";

export function registerApiRoutes(app: FastifyInstance, ctx: AppContext): void {
  void app.register(
    async (api) => {
      // Answers describe one organization's configuration and people: no cache may keep them.
      api.addHook("onSend", async (_request, reply, payload) => {
        reply.header("cache-control", "no-store");
        return payload;
      });
      api.setNotFoundHandler(async () => {
        throw new GatehouseError("NOT_FOUND", "No such API endpoint.");
      });

      const document = JSON.stringify(openApiDocument(ctx.config));
      api.get("/openapi.json", async (_request, reply) => reply.type("application/json").send(document));

      api.get("/me", { preHandler: apiAuthentication(api, ctx, "any") }, async (request, reply) => {
        const caller = apiCaller(request);
        if (caller.kind === "api_key") {
          return {
            credential: "api_key",
            apiKey: { id: caller.keyId, name: caller.keyName },
            organization: {
              id: caller.organizationId,
              slug: caller.organizationSlug,
              name: caller.organizationName,
            },
          };
        }
        if (caller.kind === "operator_key") {
          return { credential: "operator_key", apiKey: { id: caller.keyId, name: caller.keyName } };
        }
        const s = caller.session;
        return {
          credential: "session",
          user: { id: s.userId, email: s.email, name: s.name },
          organization:
            s.organizationId && s.organizationSlug && s.organizationName !== null
              ? { id: s.organizationId, slug: s.organizationSlug, name: s.organizationName }
              : null,
          role: s.role,
          signInMethod: s.method,
          connection:
            s.connectionId && s.connectionName ? { id: s.connectionId, name: s.connectionName } : null,
          expiresAt: new Date(s.expiresAt).toISOString(),
          // The token a same-origin script sends as x-csrf-token on POST and DELETE; only on
          // request, since minting one costs a fresh secret and an HMAC on the hottest route.
          ...((request.query as { include?: unknown }).include === "csrfToken"
            ? { csrfToken: reply.generateCsrf() }
            : {}),
        };
      });

      registerConnectionRoutes(api, ctx);
      registerApiKeyRoutes(api, ctx);
      registerApplicationRoutes(api, ctx);
      registerOrganizationRoutes(api, ctx);
      registerPeopleRoutes(api, ctx);

      const admin = { preHandler: apiAuthentication(api, ctx, "admin") };

      api.get("/users", admin, async (request) => {
        const users = await listOrganizationUsers(ctx.store.db, callerOrganizationId(request));
        return {
          data: users.map((u) => ({
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            createdAt: new Date(u.createdAt).toISOString(),
            signInMethods: u.signInMethods,
            lastSignInAt: u.lastSignInAt === null ? null : new Date(u.lastSignInAt).toISOString(),
          })),
        };
      });

      api.get("/events", admin, async (request) => {
        const query = parseEventsQuery(request.query, callerOrganizationId(request));
        return { data: await listAuditEvents(ctx.store.db, query) };
      });
    },
    { prefix: API_PREFIX },
  );
}
