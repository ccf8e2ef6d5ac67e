import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { urlFor } from "../config.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { type ApiKeySummary, listOperatorApiKeys, listOrganizationApiKeys } from "../store/api-keys.js";
import { apiAuthentication, apiCaller, callerUserId } from "./auth.js";
import { isUuid } from "./input.js";
import { createOperatorApiKey, createOrganizationApiKey, revokeApiKey } from "./keys.js";
import { readPage, toPage } from "./pagination.js";
import {
  CsrfHeaders,
  errors,
  IdempotencyHeaders,
  IdParams,
  IsoTime,
  NoContent,
  Nullable,
  Page,
  PageQuery,
  StringEnum,
  Uuid,
} from "./schemas.js";

export const ApiKey = Type.Object(
  {
    id: Uuid,
    scope: StringEnum(["organization", "operator"]),
    organizationId: Nullable(Uuid),
    name: Type.String(),
    prefix: Type.String({ description: "The key's first characters, to tell keys apart" }),
    createdAt: IsoTime,
    lastUsedAt: Nullable(Type.String({ format: "date-time", description: "To the minute" })),
    revokedAt: Nullable(IsoTime),
  },
  { title: "ApiKey" },
);

const CreatedApiKey = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    prefix: Type.String(),
    key: Type.String({ description: "The key itself: shown once, stored only as a hash" }),
  },
  { title: "CreatedApiKey", description: "The new key" },
);

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

export function registerApiKeyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const preValidation = apiAuthentication(app, ctx, "admin_or_operator");
  const security = [{ apiKey: [] }, { session: [] }, { operatorKey: [] }];
  const tags = ["API keys"];

  api.get(
    "/api-keys",
    {
      preValidation,
      schema: {
        operationId: "listApiKeys",
        summary: "API keys in reach, newest first, revoked ones included",
        description:
          "An organization admin (session or organization key): the organization's keys. An operator key: the operator keys.",
        tags,
        security,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(ApiKey, "The keys"), ...errors({ 400: "VALIDATION_FAILED" }) },
      },
    },
    async (request) => {
      const page = readPage<[number, string]>(request.query, ["number", "string"]);
      const scope = scopeOf(request);
      const query = { limit: page.limit + 1, after: page.after };
      const keys =
        "operator" in scope
          ? await listOperatorApiKeys(ctx.store.db, query)
          : await listOrganizationApiKeys(ctx.store.db, scope.organizationId, query);
      return toPage(keys, page.limit, (k) => [k.createdAt, k.id], toApiKeyView);
    },
  );

  api.post(
    "/api-keys",
    {
      preValidation,
      config: { idempotent: true },
      schema: {
        operationId: "createApiKey",
        summary: "Create an API key in the caller's scope; the key is in this answer only",
        tags,
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, errorMessage: "Required: 1-100 characters." }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: CreatedApiKey,
          ...errors({
            400: "VALIDATION_FAILED",
            409: "IDEMPOTENCY_KEY_IN_USE",
            422: "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key came with another body",
          }),
        },
      },
    },
    async (request, reply) => {
      const { name } = request.body;
      const scope = scopeOf(request);
      const created =
        "operator" in scope
          ? await createOperatorApiKey(ctx, name)
          : await createOrganizationApiKey(ctx, scope.organizationId, name, callerUserId(request));
      return reply
        .status(201)
        .header("location", urlFor(ctx.config, `api/v1/api-keys/${created.id}`))
        .send({ id: created.id, name: name.trim(), prefix: created.prefix, key: created.key });
    },
  );

  api.delete(
    "/api-keys/:id",
    {
      preValidation,
      schema: {
        operationId: "revokeApiKey",
        summary: "Revoke an API key: every instance refuses it from the next request on",
        tags,
        security,
        params: IdParams,
        headers: CsrfHeaders,
        response: { 204: NoContent, ...errors({ 404: "NOT_FOUND: no such active key in reach" }) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!isUuid(id)) throw new GatehouseError("NOT_FOUND", "No such active API key.");
      await revokeApiKey(ctx, id.toLowerCase(), scopeOf(request), callerUserId(request));
      return reply.status(204).send(null);
    },
  );
}
