import type { FastifyInstance } from "fastify";
import { urlFor } from "../config.js";
import { GatehouseError, validationError } from "../errors.js";
import {
  type ApplicationInput,
  createApplication,
  deleteApplication,
  getApplication,
  listApplications,
} from "../provider/applications.js";
import type { AppContext } from "../server/context.js";
import { apiAuthentication } from "./auth.js";

const METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"] as const;

function uriList(value: unknown, field: string, fields: Record<string, string>): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    fields[field] = "an array of URIs";
    return undefined;
  }
  return value;
}

function optionalString(value: unknown, field: string, fields: Record<string, string>): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    fields[field] = "a string";
    return undefined;
  }
  return value;
}

/** The create body: shapes here, meaning (URI rules) in the service. */
export function parseApplicationBody(body: unknown): ApplicationInput {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw validationError({ body: "a JSON object" }, "The request body must be a JSON object.");
  }
  const b = body as Record<string, unknown>;
  const fields: Record<string, string> = {};
  const known = new Set([
    "name",
    "redirectUris",
    "postLogoutRedirectUris",
    "backchannelLogoutUri",
    "public",
    "tokenEndpointAuthMethod",
    "jwksUri",
  ]);
  for (const key of Object.keys(b)) if (!known.has(key)) fields[key] = "unknown field";
  if (typeof b.name !== "string") fields.name = "required: the application's name";
  const redirectUris = uriList(b.redirectUris, "redirectUris", fields);
  if (b.redirectUris === undefined) fields.redirectUris = "required: at least one redirect URI";
  if (b.public !== undefined && typeof b.public !== "boolean") fields.public = "true or false";
  const method = optionalString(b.tokenEndpointAuthMethod, "tokenEndpointAuthMethod", fields);
  if (method !== undefined && !METHODS.includes(method as (typeof METHODS)[number])) {
    fields.tokenEndpointAuthMethod = `one of ${METHODS.join(", ")}`;
  }
  const input: ApplicationInput = {
    name: typeof b.name === "string" ? b.name : "",
    redirectUris: redirectUris ?? [],
    postLogoutRedirectUris: uriList(b.postLogoutRedirectUris, "postLogoutRedirectUris", fields),
    backchannelLogoutUri: optionalString(b.backchannelLogoutUri, "backchannelLogoutUri", fields),
    public: b.public === true,
    tokenEndpointAuthMethod: method as (typeof METHODS)[number] | undefined,
    jwksUri: optionalString(b.jwksUri, "jwksUri", fields),
  };
  if (Object.keys(fields).length > 0) throw validationError(fields);
  return input;
}

/** `/api/v1/applications`: the applications that sign in through Gatehouse; operator keys only. */
export function registerApplicationRoutes(api: FastifyInstance, ctx: AppContext): void {
  const access = { preHandler: apiAuthentication(api, ctx, "operator") };

  api.get("/applications", access, async () => ({ data: await listApplications(ctx) }));

  api.post("/applications", access, async (request, reply) => {
    const { application, clientSecret } = await createApplication(ctx, parseApplicationBody(request.body));
    return reply
      .status(201)
      .header("location", urlFor(ctx.config, `api/v1/applications/${application.clientId}`))
      .send({ ...application, ...(clientSecret === undefined ? {} : { clientSecret }) });
  });

  api.get("/applications/:clientId", access, async (request) => {
    const { clientId } = request.params as { clientId: string };
    return getApplication(ctx, clientId);
  });

  api.delete("/applications/:clientId", access, async (request, reply) => {
    const { clientId } = request.params as { clientId: string };
    if (clientId.length > 200)
      throw new GatehouseError("APPLICATION_NOT_FOUND", "No application has this client id.");
    await deleteApplication(ctx, clientId);
    return reply.status(204).send();
  });
}
