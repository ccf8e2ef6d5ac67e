import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { urlFor } from "../config.js";
import { GatehouseError } from "../errors.js";
import {
  createApplication,
  deleteApplication,
  getApplication,
  listApplications,
} from "../provider/applications.js";
import type { AppContext } from "../server/context.js";
import { apiAuthentication } from "./auth.js";
import { readPage, toPage } from "./pagination.js";
import {
  errors,
  IdempotencyHeaders,
  IsoTime,
  NoContent,
  Nullable,
  Page,
  PageQuery,
  StringEnum,
} from "./schemas.js";

const Uris = Type.Array(Type.String(), { errorMessage: "Must be an array of URIs." });

const applicationProperties = {
  clientId: Type.String(),
  name: Type.String(),
  public: Type.Boolean(),
  applicationType: StringEnum(["web", "native"], {
    description: "`native`: installed on a device (RFC 8252), always public",
  }),
  tokenEndpointAuthMethod: StringEnum([
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
  ]),
  redirectUris: Type.Array(Type.String({ format: "uri" })),
  postLogoutRedirectUris: Type.Array(Type.String({ format: "uri" })),
  backchannelLogoutUri: Nullable(Type.String({ format: "uri" })),
  jwksUri: Nullable(Type.String({ format: "uri" })),
  createdAt: IsoTime,
};

const Application = Type.Object(applicationProperties, { title: "Application" });

const CreatedApplication = Type.Object(
  {
    ...applicationProperties,
    clientSecret: Type.Optional(
      Type.String({ description: "Confidential applications only: shown in this answer only" }),
    ),
  },
  {
    title: "CreatedApplication",
    description: "The new application, with `clientSecret` for confidential ones",
  },
);

const CreateApplicationRequest = Type.Object(
  {
    name: Type.String({ maxLength: 200, errorMessage: "Required: the application's name." }),
    redirectUris: Type.Array(Type.String(), {
      description:
        "Exact redirect URIs: https, or http for localhost. A native application's: http://127.0.0.1 or http://[::1] (any port at sign-in), a private-use scheme in reverse-domain form (com.example.app:/callback), or https",
      errorMessage: "Required: an array of redirect URIs.",
    }),
    postLogoutRedirectUris: Type.Optional(Uris),
    backchannelLogoutUri: Type.Optional(Nullable(Type.String())),
    public: Type.Optional(
      Type.Boolean({ description: "No secret; PKCE S256 required", errorMessage: "true or false" }),
    ),
    applicationType: Type.Optional(
      StringEnum(["web", "native"], {
        description:
          "`web` (default) or `native`: an application installed on a device (RFC 8252); always public, with RFC 8252's redirect URIs",
        errorMessage: "One of web, native.",
      }),
    ),
    tokenEndpointAuthMethod: Type.Optional(
      StringEnum(["client_secret_basic", "client_secret_post", "private_key_jwt"], {
        errorMessage: "One of client_secret_basic, client_secret_post, private_key_jwt.",
      }),
    ),
    jwksUri: Type.Optional(Nullable(Type.String({ description: "For private_key_jwt" }))),
  },
  { additionalProperties: false, title: "CreateApplicationRequest" },
);

const notFound = "APPLICATION_NOT_FOUND";

/** `/api/v1/applications`: the applications that sign in through Gatehouse; operator keys only. */
export function registerApplicationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const preValidation = apiAuthentication(app, ctx, "operator");
  const security = [{ operatorKey: [] }];
  const tags = ["Applications"];
  const ClientIdParams = Type.Object({ clientId: Type.String({ maxLength: 200 }) });

  api.get(
    "/applications",
    {
      preValidation,
      schema: {
        operationId: "listApplications",
        summary: "The applications that sign in through Gatehouse (OpenID Connect clients), oldest first",
        tags,
        security,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Application, "The applications"), ...errors({ 400: "VALIDATION_FAILED" }) },
      },
    },
    async (request) => {
      const page = readPage<[number, string]>(request.query, ["number", "string"]);
      const rows = await listApplications(ctx, { limit: page.limit + 1, after: page.after });
      return toPage(
        rows,
        page.limit,
        (a) => [Date.parse(a.createdAt), a.clientId],
        (a) => a,
      );
    },
  );

  api.post(
    "/applications",
    {
      preValidation,
      config: { idempotent: true },
      schema: {
        operationId: "createApplication",
        summary: "Register an application; the client secret is in this answer only",
        tags,
        security,
        headers: IdempotencyHeaders,
        body: CreateApplicationRequest,
        response: {
          201: CreatedApplication,
          ...errors({
            400: "VALIDATION_FAILED, with a message per field in `fields`",
            409: "IDEMPOTENCY_KEY_IN_USE",
            422: "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key came with another body",
          }),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const { application, clientSecret } = await createApplication(ctx, {
        name: b.name,
        redirectUris: b.redirectUris,
        postLogoutRedirectUris: b.postLogoutRedirectUris,
        backchannelLogoutUri: b.backchannelLogoutUri ?? undefined,
        public: b.public,
        applicationType: b.applicationType,
        tokenEndpointAuthMethod: b.tokenEndpointAuthMethod,
        jwksUri: b.jwksUri ?? undefined,
      });
      return reply
        .status(201)
        .header("location", urlFor(ctx.config, `api/v1/applications/${application.clientId}`))
        .send({ ...application, ...(clientSecret === undefined ? {} : { clientSecret }) });
    },
  );

  api.get(
    "/applications/:clientId",
    {
      preValidation,
      schema: {
        operationId: "getApplication",
        summary: "One application",
        tags,
        security,
        params: ClientIdParams,
        response: { 200: Application, ...errors({ 404: notFound }) },
      },
    },
    async (request) => getApplication(ctx, request.params.clientId),
  );

  api.delete(
    "/applications/:clientId",
    {
      preValidation,
      schema: {
        operationId: "deleteApplication",
        summary: "Delete an application: its codes and tokens stop working",
        tags,
        security,
        params: ClientIdParams,
        response: { 204: NoContent, ...errors({ 404: notFound }) },
      },
    },
    async (request, reply) => {
      const { clientId } = request.params;
      if (clientId.length > 200)
        throw new GatehouseError("APPLICATION_NOT_FOUND", "No application has this client id.");
      await deleteApplication(ctx, clientId);
      return reply.status(204).send(null);
    },
  );
}
