import fastifySwagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import { withSignInNow } from "../accounts/sign-in-now.js";
import { GatehouseError, validationError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { type AuditQuery, listAuditEvents } from "../store/audit.js";
import { listOrganizationUsers } from "../store/users.js";
import { registerApiKeyRoutes } from "./api-keys.js";
import { registerApplicationRoutes } from "./applications.js";
import { type ApiCaller, apiAuthentication, apiCaller, callerOrganizationId } from "./auth.js";
import { registerConnectionRoutes } from "./connections.js";
import { registerDomainRoutes } from "./domains.js";
import { registerIdempotency } from "./idempotency.js";
import { openApiOptions } from "./openapi.js";
import { encodeCursor, readPage, toPage } from "./pagination.js";
import { registerOrganizationRoutes, registerPeopleRoutes } from "./people.js";
import { errors, IsoTime, Nullable, Organization, Page, PageQuery, StringEnum, Uuid } from "./schemas.js";
import { validatorCompiler } from "./validation.js";

export const API_PREFIX = "/api/v1";

const User = Type.Object(
  {
    id: Uuid,
    email: Type.String({ format: "email" }),
    name: Nullable(Type.String()),
    givenName: Nullable(Type.String()),
    familyName: Nullable(Type.String()),
    role: StringEnum(["owner", "admin", "member"]),
    createdAt: IsoTime,
    signInMethods: Type.Array(StringEnum(["password", "linkedin", "sso"]), {
      description:
        "The credentials the person holds: a password, a LinkedIn identity, an SSO identity. While ssoRequired is set, password and linkedin are refused at sign-in.",
    }),
    ssoRequired: Nullable(
      Type.Object(
        {
          connection: Nullable(
            Type.Object(
              { id: Uuid, name: Type.String() },
              { description: "The connection to sign in through; null when it is another organization's" },
            ),
          ),
        },
        {
          description:
            "Set when the person's email domain is verified and listed by an enabled connection: they can sign in only through it, whatever signInMethods holds. null: every method they hold works.",
        },
      ),
    ),
    lastSignInAt: Nullable(
      Type.String({ format: "date-time", description: "The latest sign-in still on record" }),
    ),
  },
  { title: "User" },
);

const AuditEvent = Type.Object(
  {
    id: Uuid,
    type: Type.String({ examples: ["connection.created", "sign_in.sso"] }),
    outcome: Nullable(StringEnum(["success", "failure"])),
    actorUserId: Nullable(Type.String()),
    userId: Nullable(Type.String()),
    connectionId: Nullable(Type.String()),
    email: Nullable(Type.String()),
    subject: Nullable(Type.String()),
    reasonCode: Nullable(Type.String({ description: "The error code of a failure" })),
    detail: Nullable(
      Type.Record(Type.String(), Type.Unknown(), { description: "The technical detail; never a secret" }),
    ),
    traceId: Nullable(Type.String()),
    ip: Nullable(Type.String()),
    createdAt: IsoTime,
  },
  { title: "AuditEvent" },
);

const SessionMe = Type.Object(
  {
    credential: Type.Literal("session"),
    user: Type.Object({
      id: Uuid,
      email: Type.String({ format: "email" }),
      name: Nullable(Type.String()),
      givenName: Nullable(Type.String({ description: "As the identity provider last asserted it" })),
      familyName: Nullable(Type.String({ description: "As the identity provider last asserted it" })),
    }),
    organization: Nullable(Organization),
    role: Nullable(StringEnum(["owner", "admin", "member"])),
    signInMethod: StringEnum(["password", "linkedin", "sso"]),
    connection: Nullable(Type.Object({ id: Uuid, name: Type.String() })),
    expiresAt: IsoTime,
    csrfToken: Type.Optional(
      Type.String({
        description: "Only with ?include=csrfToken: send it as x-csrf-token on POST, PATCH and DELETE",
      }),
    ),
  },
  { title: "SessionMe" },
);

const ApiKeyMe = Type.Object(
  {
    credential: Type.Literal("api_key"),
    apiKey: Type.Object({ id: Uuid, name: Type.String() }),
    organization: Organization,
  },
  { title: "ApiKeyMe" },
);

const OperatorKeyMe = Type.Object(
  { credential: Type.Literal("operator_key"), apiKey: Type.Object({ id: Uuid, name: Type.String() }) },
  { title: "OperatorKeyMe" },
);

const EventsQuery = Type.Object(
  {
    connection: Type.Optional(
      Type.String({
        format: "uuid",
        description: "Only events of this connection",
        errorMessage: "Must be a connection id (a UUID).",
      }),
    ),
    outcome: Type.Optional(
      StringEnum(["success", "failure"], { errorMessage: 'Must be "success" or "failure".' }),
    ),
    type: Type.Optional(
      Type.String({
        pattern: "^[a-z][a-z0-9_.]{0,63}$",
        description: "Event type, such as connection.created or sign_in.sso",
        errorMessage: "Must be an event type, such as sign_in.sso or connection.created.",
      }),
    ),
    ...PageQuery,
    before: Type.Optional(
      Type.String({
        format: "date-time",
        description: "Only events strictly older than this time",
        errorMessage: "Must be an ISO 8601 time with a time zone, such as 2025-01-31T12:00:00Z.",
      }),
    ),
    beforeId: Type.Optional(
      Type.String({
        format: "uuid",
        description:
          "With `before`: the id of the last event already shown, so that events of the same millisecond are neither skipped nor repeated. `after` does the same in one parameter.",
        errorMessage: "Must be an event id (a UUID).",
      }),
    ),
  },
  { additionalProperties: false },
);

/** The schema of each of `GET /me`'s answers, by the caller's kind. */
const ME_SCHEMAS = {
  session: SessionMe,
  api_key: ApiKeyMe,
  operator_key: OperatorKeyMe,
} as unknown as Record<ApiCaller["kind"], Record<string, unknown>>;

/** `GET /me`'s answer. */
function describeCaller(caller: ApiCaller, csrfToken: string | undefined): Record<string, unknown> {
  if (caller.kind === "api_key") {
    const answer: Static<typeof ApiKeyMe> = {
      credential: "api_key",
      apiKey: { id: caller.keyId, name: caller.keyName },
      organization: {
        id: caller.organizationId,
        slug: caller.organizationSlug,
        name: caller.organizationName,
      },
    };
    return answer;
  }
  if (caller.kind === "operator_key") {
    const answer: Static<typeof OperatorKeyMe> = {
      credential: "operator_key",
      apiKey: { id: caller.keyId, name: caller.keyName },
    };
    return answer;
  }
  const s = caller.session;
  const answer: Static<typeof SessionMe> = {
    credential: "session",
    user: {
      id: s.userId,
      email: s.email,
      name: s.name,
      givenName: s.givenName ?? null,
      familyName: s.familyName ?? null,
    },
    organization:
      s.organizationId && s.organizationSlug && s.organizationName !== null
        ? { id: s.organizationId, slug: s.organizationSlug, name: s.organizationName }
        : null,
    role: s.role,
    signInMethod: s.method,
    connection: s.connectionId && s.connectionName ? { id: s.connectionId, name: s.connectionName } : null,
    expiresAt: new Date(s.expiresAt).toISOString(),
    // The token a same-origin script sends as x-csrf-token on changes; only on request, since
    // minting one costs a fresh secret and an HMAC on the hottest route.
    ...(csrfToken === undefined ? {} : { csrfToken }),
  };
  return answer;
}

export function registerApiRoutes(app: FastifyInstance, ctx: AppContext): void {
  void app.register(
    async (scope) => {
      scope.setValidatorCompiler(validatorCompiler);
      await scope.register(fastifySwagger, openApiOptions(ctx.config));
      const api = scope.withTypeProvider<TypeBoxTypeProvider>();

      // cache-control: no-store comes with the API's security headers (src/server/app.ts).
      api.setNotFoundHandler(async () => {
        throw new GatehouseError("NOT_FOUND", "No such API endpoint.");
      });
      registerIdempotency(scope, ctx);

      let document: string | undefined;
      api.get(
        "/openapi.json",
        {
          schema: {
            operationId: "getOpenApiDocument",
            summary: "This document",
            tags: ["Meta"],
            security: [],
            response: {
              200: Type.Object({}, { additionalProperties: true, description: "The OpenAPI document" }),
            },
          },
        },
        async (_request, reply) => {
          document ??= JSON.stringify(scope.swagger());
          // A string is sent as it is, not through the response schema.
          return reply.type("application/json").send(document as unknown as object);
        },
      );

      api.get(
        "/me",
        {
          preValidation: apiAuthentication(scope, ctx, "any"),
          schema: {
            operationId: "getMe",
            summary: "Who is calling",
            description:
              "With a session cookie: the signed-in user, any role (members included). With an API key: the key and its organization.",
            tags: ["Meta"],
            security: [{ apiKey: [] }, { session: [] }, { operatorKey: [] }],
            querystring: Type.Object(
              {
                include: Type.Optional(
                  Type.Literal("csrfToken", {
                    description: "csrfToken: also return a CSRF token for the session's changes",
                  }),
                ),
              },
              { additionalProperties: false },
            ),
            response: {
              200: Type.Union([SessionMe, ApiKeyMe, OperatorKeyMe], { description: "The caller" }),
              ...errors({ 400: "VALIDATION_FAILED" }),
            },
          },
        },
        async (request, reply) => {
          const caller = apiCaller(request);
          const csrfToken = request.query.include === "csrfToken" ? reply.generateCsrf() : undefined;
          const answer = describeCaller(caller, csrfToken);
          // Serialized with its own branch's schema: the union's serializer would first check the
          // answer against each branch with Ajv, on the route every session check calls.
          const json = reply.serializeInput(answer, ME_SCHEMAS[caller.kind]);
          return reply
            .type("application/json; charset=utf-8")
            .send(json as unknown as Static<typeof SessionMe>);
        },
      );

      registerConnectionRoutes(scope, ctx);
      registerDomainRoutes(scope, ctx);
      registerApiKeyRoutes(scope, ctx);
      registerApplicationRoutes(scope, ctx);
      registerOrganizationRoutes(scope, ctx);
      registerPeopleRoutes(scope, ctx);

      const preValidation = apiAuthentication(scope, ctx, "admin");

      api.get(
        "/users",
        {
          preValidation,
          schema: {
            operationId: "listUsers",
            summary:
              "The organization's users, their credentials and whether single sign-on is required of them, by email",
            tags: ["Users"],
            querystring: Type.Object(PageQuery, { additionalProperties: false }),
            response: { 200: Page(User, "The users"), ...errors({ 400: "VALIDATION_FAILED" }) },
          },
        },
        async (request) => {
          const page = readPage<[string, string]>(request.query, ["string", "string"]);
          const organizationId = callerOrganizationId(request);
          const users = await withSignInNow(
            ctx,
            organizationId,
            await listOrganizationUsers(ctx.store.db, organizationId, {
              limit: page.limit + 1,
              after: page.after,
            }),
          );
          return toPage(
            users,
            page.limit,
            (u) => [u.email, u.id],
            ({ signInNow, ...u }) => ({
              ...u,
              ssoRequired: signInNow.ssoRequiredBy
                ? {
                    connection: signInNow.ssoRequiredBy.own
                      ? { id: signInNow.ssoRequiredBy.id, name: signInNow.ssoRequiredBy.name }
                      : null,
                  }
                : null,
              createdAt: new Date(u.createdAt).toISOString(),
              lastSignInAt: u.lastSignInAt === null ? null : new Date(u.lastSignInAt).toISOString(),
            }),
          );
        },
      );

      api.get(
        "/events",
        {
          preValidation,
          schema: {
            operationId: "listEvents",
            summary: "The audit log, newest first",
            tags: ["Audit log"],
            querystring: EventsQuery,
            response: {
              200: Page(AuditEvent, "The events"),
              ...errors({ 400: "VALIDATION_FAILED, with a message per query parameter in `fields`" }),
            },
          },
        },
        async (request) => {
          const q = request.query;
          const page = readPage<[number, string]>(q, ["number", "string"]);
          const query: AuditQuery = { organizationId: callerOrganizationId(request), limit: page.limit + 1 };
          if (q.connection !== undefined) query.connectionId = q.connection.toLowerCase();
          if (q.outcome !== undefined) query.outcome = q.outcome;
          if (q.type !== undefined) query.type = q.type;
          if (q.beforeId !== undefined && q.before === undefined) {
            throw validationError({
              beforeId: "Give it with before: the time and id of the last event already shown.",
            });
          }
          if (page.after !== undefined && q.before !== undefined) {
            throw validationError({ after: "Give either after or before, not both." });
          }
          if (page.after !== undefined) {
            [query.before, query.beforeId] = page.after;
          } else if (q.before !== undefined) {
            query.before = Date.parse(q.before);
            if (q.beforeId !== undefined) query.beforeId = q.beforeId.toLowerCase();
          }
          const events = await listAuditEvents(ctx.store.db, query);
          return toPage(
            events,
            page.limit,
            (e) => [Date.parse(e.createdAt), e.id],
            (e) => e,
          );
        },
      );
    },
    { prefix: API_PREFIX },
  );
}

export { encodeCursor };
