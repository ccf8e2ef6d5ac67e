import type { FastifyInstance, FastifyRequest } from "fastify";
import { urlFor } from "../config.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import type { ApiKeySummary } from "../store/api-keys.js";
import { apiAuthentication, apiCaller, callerUserId } from "./auth.js";
import { isUuid } from "./input.js";
import { createOperatorApiKey, createOrganizationApiKey, listApiKeys, revokeApiKey } from "./keys.js";

export function toApiKeyView(key: ApiKeySummary) {
  return {
    id: key.id,
    scope: key.scope,
    organizationId: key.organizationId,
    name: key.name,
    prefix: key.prefix,
    createdAt: new Date(key.createdAt).toISOString(),
    lastUsedAt: key.lastUsedAt === null ? null : new Date(key.lastUsedAt).toISOString(),
    revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
  };
}

/** An organization admin sees and manages its organization's keys; an operator key, operator keys. */
function scopeOf(request: FastifyRequest): { organizationId: string } | { operator: true } {
  const caller = apiCaller(request);
  if (caller.kind === "operator_key") return { operator: true };
  if (!caller.organizationId) throw new GatehouseError("INTERNAL", "admin caller without an organization");
  return { organizationId: caller.organizationId };
}

export function registerApiKeyRoutes(api: FastifyInstance, ctx: AppContext): void {
  const access = { preHandler: apiAuthentication(api, ctx, "admin_or_operator") };

  api.get("/api-keys", access, async (request) => {
    const scope = scopeOf(request);
    const keys =
      "operator" in scope
        ? (await listApiKeys(ctx, null)).filter((k) => k.scope === "operator")
        : await listApiKeys(ctx, scope.organizationId);
    return { data: keys.map(toApiKeyView) };
  });

  api.post("/api-keys", access, async (request, reply) => {
    const body = request.body;
    const name =
      body && typeof body === "object" && "name" in body && typeof body.name === "string"
        ? body.name
        : undefined;
    if (name === undefined) {
      throw new GatehouseError("VALIDATION_FAILED", "The key needs a name.", {
        fields: { name: "required: 1-100 characters" },
      });
    }
    const scope = scopeOf(request);
    const created =
      "operator" in scope
        ? await createOperatorApiKey(ctx, name)
        : await createOrganizationApiKey(ctx, scope.organizationId, name, callerUserId(request));
    return reply
      .status(201)
      .header("location", urlFor(ctx.config, `api/v1/api-keys/${created.id}`))
      .send({ id: created.id, name: name.trim(), prefix: created.prefix, key: created.key });
  });

  api.delete("/api-keys/:id", access, async (request, reply) => {
    const id = (request.params as { id?: unknown }).id;
    if (typeof id !== "string" || !isUuid(id))
      throw new GatehouseError("NOT_FOUND", "No such active API key.");
    await revokeApiKey(ctx, id.toLowerCase(), scopeOf(request), callerUserId(request));
    return reply.status(204).send();
  });
}
