import type { FastifyInstance } from "fastify";
import { createOrganizationApiKey, revokeApiKey } from "../../api/keys.js";
import { isUuid } from "../../domain/ids.js";
import { GatehouseError, isGatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { listOrganizationApiKeys } from "../../store/api-keys.js";
import { textField } from "../../web/form.js";
import { adminPaths, sendHtml } from "../components.js";
import { adminSession, requireAdmin } from "../guard.js";
import { apiKeysPage } from "./page.js";

/** Administration > API keys: the organization's keys, created once, revoked for good. */
export function registerApiKeyAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admin = requireAdmin(ctx);

  app.get(adminPaths.apiKeys, { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const revokedId = textField(request.query, "revoked", 100);
    const keys = await listOrganizationApiKeys(ctx.store.db, session.organizationId);
    const revoked = keys.find((k) => k.id === revokedId && k.revokedAt !== null)?.name;
    return sendHtml(reply, apiKeysPage({ session, csrfToken: reply.generateCsrf(), keys, revoked }));
  });

  app.post(adminPaths.apiKeys, { preHandler: [admin, app.csrfProtection] }, async (request, reply) => {
    const session = adminSession(request);
    const name = textField(request.body, "name", 200);
    try {
      const created = await createOrganizationApiKey(ctx, session.organizationId, name, session.userId);
      const keys = await listOrganizationApiKeys(ctx.store.db, session.organizationId);
      // Rendered in this answer rather than after a redirect: the key must never sit in a URL.
      return sendHtml(
        reply,
        apiKeysPage({
          session,
          csrfToken: reply.generateCsrf(),
          keys,
          created: { name: name.trim(), key: created.key },
        }),
        201,
      );
    } catch (error) {
      if (!isGatehouseError(error) || error.code !== "VALIDATION_FAILED") throw error;
      const keys = await listOrganizationApiKeys(ctx.store.db, session.organizationId);
      return sendHtml(
        reply,
        apiKeysPage({
          session,
          csrfToken: reply.generateCsrf(),
          keys,
          nameError: "Give the key a name of 1 to 100 characters.",
        }),
        400,
      );
    }
  });

  app.post(
    adminPaths.revokeApiKey(":id"),
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const session = adminSession(request);
      const id = (request.params as { id?: unknown }).id;
      if (!isUuid(id)) throw new GatehouseError("NOT_FOUND", "No such active API key.");
      const revoked = await revokeApiKey(ctx, id, { organizationId: session.organizationId }, session.userId);
      return reply.redirect(`${adminPaths.apiKeys}?revoked=${encodeURIComponent(revoked.id)}`, 303);
    },
  );
}
