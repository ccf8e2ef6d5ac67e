import { type Config, urlFor } from "../config.js";
import { sessionCookieName } from "../session/cookie.js";
import { applicationPaths, applicationSchemas } from "./applications-openapi.js";
import { EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT } from "./input.js";
import { peoplePaths, peopleSchemas } from "./people-openapi.js";

/**
 * The OpenAPI 3.1 description of `/api/v1`, written by hand next to the routes it describes.
 * test/api.test.ts checks that every registered route appears here and every path here exists.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const response = (description: string, schema?: unknown) =>
  schema === undefined ? { description } : { description, content: json(schema) };
const list = (item: string) => ({
  type: "object",
  required: ["data"],
  properties: { data: { type: "array", items: ref(item) } },
});
const nullable = (type: string) => ({ type: [type, "null"] });
const isoTime = { type: "string", format: "date-time" };

const errors = {
  "401": { $ref: "#/components/responses/Unauthenticated" },
  "403": { $ref: "#/components/responses/Forbidden" },
};

export function openApiDocument(config: Pick<Config, "baseUrl">) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse API",
      version: "1",
      description:
        "Manage an organization's single sign-on connections and read its users and audit log. " +
        "Every answer is scoped to the caller's organization; another organization's ids answer 404. " +
        "Errors are JSON objects with a stable `code`, a `message` for people and, for invalid input, " +
        "a message per field in `fields`.",
    },
    servers: [{ url: urlFor(config, "").replace(/\/$/, "") }],
    security: [{ apiKey: [] }, { session: [] }],
    paths: {
      ...applicationPaths,
      ...peoplePaths,
      "/api/v1/openapi.json": {
        get: {
          operationId: "getOpenApiDocument",
          summary: "This document",
          security: [],
          responses: { "200": response("The OpenAPI document", { type: "object" }) },
        },
      },
      "/api/v1/me": {
        get: {
          operationId: "getMe",
          summary: "Who is calling",
          description:
            "With a session cookie: the signed-in user, any role (members included). With an API key: the key and its organization.",
          parameters: [
            {
              name: "include",
              in: "query",
              required: false,
              schema: { const: "csrfToken" },
              description: "csrfToken: also return a CSRF token for the session's POST and DELETE requests",
            },
          ],
          responses: {
            "200": response("The caller", { oneOf: [ref("SessionMe"), ref("ApiKeyMe")] }),
            "401": errors["401"],
          },
        },
      },
      "/api/v1/connections": {
        get: {
          operationId: "listConnections",
          summary: "The organization's SSO connections",
          responses: { "200": response("The connections", list("ConnectionView")), ...errors },
        },
        post: {
          operationId: "createConnection",
          summary: "Create an OpenID Connect connection",
          description:
            "Checks the fields, that the name and domains are free, and the issuer's discovery document, then creates the connection enabled: from then on users at its domains must sign in through it.",
          parameters: [{ $ref: "#/components/parameters/CsrfToken" }],
          requestBody: { required: true, content: json(ref("CreateConnectionRequest")) },
          responses: {
            "201": {
              description: "Created",
              headers: { location: { schema: { type: "string", format: "uri" } } },
              content: json(ref("ConnectionView")),
            },
            "400": response(
              "VALIDATION_FAILED, SSO_DISCOVERY_FAILED, SSO_ISSUER_MISMATCH or SSO_ISSUER_NOT_ALLOWED, with `fields`",
              ref("Error"),
            ),
            ...errors,
            "409": response("CONFLICT: the name or a domain is already in use, with `fields`", ref("Error")),
          },
        },
      },
      "/api/v1/connections/{id}": {
        parameters: [{ $ref: "#/components/parameters/ConnectionId" }],
        get: {
          operationId: "getConnection",
          summary: "One connection",
          responses: {
            "200": response("The connection", ref("ConnectionView")),
            ...errors,
            "404": { $ref: "#/components/responses/ConnectionNotFound" },
          },
        },
        delete: {
          operationId: "deleteConnection",
          summary: "Delete a connection",
          description:
            "Deletes the connection, its domains and its users' links to it. The users keep their accounts and can use their other sign-in methods again.",
          parameters: [{ $ref: "#/components/parameters/CsrfToken" }],
          responses: {
            "204": response("Deleted"),
            ...errors,
            "404": { $ref: "#/components/responses/ConnectionNotFound" },
          },
        },
      },
      "/api/v1/connections/{id}/disable": {
        parameters: [{ $ref: "#/components/parameters/ConnectionId" }],
        post: {
          operationId: "disableConnection",
          summary: "Disable a connection, keeping its configuration",
          description:
            'A disabled connection routes no one and enforces nothing: people at its domains use their other sign-in methods. By default the sessions it issued end too; send {"endSessions": false} to keep them. Disabling a disabled connection changes nothing and records nothing.',
          parameters: [{ $ref: "#/components/parameters/CsrfToken" }],
          requestBody: {
            required: false,
            content: json({
              type: "object",
              additionalProperties: false,
              properties: { endSessions: { type: "boolean", default: true } },
            }),
          },
          responses: {
            "200": response("The connection, with sessionsEnded", ref("ConnectionView")),
            "400": response("VALIDATION_FAILED", ref("Error")),
            ...errors,
            "404": { $ref: "#/components/responses/ConnectionNotFound" },
          },
        },
      },
      "/api/v1/connections/{id}/enable": {
        parameters: [{ $ref: "#/components/parameters/ConnectionId" }],
        post: {
          operationId: "enableConnection",
          summary: "Enable a disabled connection",
          description:
            "From now on people at its domains sign in through it; their password and LinkedIn sessions end (sessionsEnded).",
          parameters: [{ $ref: "#/components/parameters/CsrfToken" }],
          responses: {
            "200": response("The connection, with sessionsEnded", ref("ConnectionView")),
            ...errors,
            "404": { $ref: "#/components/responses/ConnectionNotFound" },
          },
        },
      },
      "/api/v1/connections/{id}/sessions/revoke": {
        parameters: [{ $ref: "#/components/parameters/ConnectionId" }],
        post: {
          operationId: "revokeConnectionSessions",
          summary: "Sign out everyone who signed in through this connection",
          parameters: [{ $ref: "#/components/parameters/CsrfToken" }],
          responses: {
            "200": response("How many sessions ended", {
              type: "object",
              required: ["sessionsEnded"],
              properties: { sessionsEnded: { type: "integer" } },
            }),
            ...errors,
            "404": { $ref: "#/components/responses/ConnectionNotFound" },
          },
        },
      },
      "/api/v1/users": {
        get: {
          operationId: "listUsers",
          summary: "The organization's users and how they can sign in",
          responses: { "200": response("The users", list("User")), ...errors },
        },
      },
      "/api/v1/events": {
        get: {
          operationId: "listEvents",
          summary: "The audit log, newest first",
          parameters: [
            {
              name: "connection",
              in: "query",
              description: "Only events of this connection",
              schema: { type: "string", format: "uuid" },
            },
            { name: "outcome", in: "query", schema: { type: "string", enum: ["success", "failure"] } },
            {
              name: "type",
              in: "query",
              description: "Event type, such as connection.created or sign_in.sso",
              schema: { type: "string", pattern: "^[a-z][a-z0-9_.]{0,63}$" },
            },
            {
              name: "limit",
              in: "query",
              schema: {
                type: "integer",
                minimum: 1,
                maximum: EVENTS_MAX_LIMIT,
                default: EVENTS_DEFAULT_LIMIT,
              },
            },
            {
              name: "before",
              in: "query",
              description: "Only events strictly older than this time, for paging",
              schema: isoTime,
            },
            {
              name: "beforeId",
              in: "query",
              description:
                "With `before`: the id of the last event already shown, so that events of the same millisecond are neither skipped nor repeated. Pass the `createdAt` and `id` of a page's last event to get the next page.",
              schema: { type: "string", format: "uuid" },
            },
          ],
          responses: {
            "200": response("The events", list("AuditEvent")),
            "400": response(
              "VALIDATION_FAILED, with a message per query parameter in `fields`",
              ref("Error"),
            ),
            ...errors,
          },
        },
      },
      "/api/v1/api-keys": {
        get: {
          operationId: "listApiKeys",
          summary: "API keys in reach, newest first, revoked ones included",
          description:
            "An organization admin (session or organization key): the organization's keys. An operator key: the operator keys.",
          security: [{ apiKey: [] }, { session: [] }, { operatorKey: [] }],
          responses: { "200": response("The keys", list("ApiKey")), ...errors },
        },
        post: {
          operationId: "createApiKey",
          summary: "Create an API key in the caller's scope; the key is in this answer only",
          security: [{ apiKey: [] }, { session: [] }, { operatorKey: [] }],
          parameters: [{ $ref: "#/components/parameters/CsrfToken" }],
          requestBody: {
            required: true,
            content: json({
              type: "object",
              required: ["name"],
              properties: { name: { type: "string", minLength: 1, maxLength: 100 } },
            }),
          },
          responses: {
            "201": response("The new key", ref("CreatedApiKey")),
            "400": response("VALIDATION_FAILED", ref("Error")),
            ...errors,
          },
        },
      },
      "/api/v1/api-keys/{id}": {
        delete: {
          operationId: "revokeApiKey",
          summary: "Revoke an API key: every instance refuses it from the next request on",
          security: [{ apiKey: [] }, { session: [] }, { operatorKey: [] }],
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } },
            { $ref: "#/components/parameters/CsrfToken" },
          ],
          responses: {
            "204": response("Revoked"),
            "404": response("NOT_FOUND: no such active key in reach", ref("Error")),
            ...errors,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "ghk_…",
          description: "An organization's API key, from `gatehouse apikey create --org <slug>`.",
        },
        operatorKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "ghop_…",
          description:
            "An operator API key, from `gatehouse apikey create --operator`: acts for the deployment.",
        },
        session: {
          type: "apiKey",
          in: "cookie",
          name: sessionCookieName(config),
          description:
            "The session of an organization owner or admin. POST and DELETE must also send the `x-csrf-token` header (the `csrfToken` of GET /api/v1/me?include=csrfToken).",
        },
      },
      parameters: {
        ConnectionId: {
          name: "id",
          in: "path",
          required: true,
          schema: { type: "string", format: "uuid" },
        },
        CsrfToken: {
          name: "x-csrf-token",
          in: "header",
          required: false,
          description: "Required with a session cookie, ignored with an API key.",
          schema: { type: "string" },
        },
      },
      responses: {
        Unauthenticated: response(
          "AUTH_UNAUTHENTICATED: no credentials, or a malformed, unknown or revoked API key",
          ref("Error"),
        ),
        Forbidden: response(
          "AUTH_FORBIDDEN (a session that is not an owner's or admin's) or CSRF_INVALID (a session's POST or DELETE without a valid x-csrf-token)",
          ref("Error"),
        ),
        ConnectionNotFound: response("CONNECTION_NOT_FOUND", ref("Error")),
      },
      schemas: {
        ...applicationSchemas,
        ...peopleSchemas,
        ApiKey: {
          type: "object",
          required: [
            "id",
            "scope",
            "organizationId",
            "name",
            "prefix",
            "createdAt",
            "lastUsedAt",
            "revokedAt",
          ],
          properties: {
            id: { type: "string", format: "uuid" },
            scope: { type: "string", enum: ["organization", "operator"] },
            organizationId: { type: ["string", "null"], format: "uuid" },
            name: { type: "string" },
            prefix: { type: "string", description: "The key's first characters, to tell keys apart" },
            createdAt: isoTime,
            lastUsedAt: { type: ["string", "null"], format: "date-time", description: "To the minute" },
            revokedAt: { type: ["string", "null"], format: "date-time" },
          },
        },
        CreatedApiKey: {
          type: "object",
          required: ["id", "name", "prefix", "key"],
          properties: {
            id: { type: "string", format: "uuid" },
            name: { type: "string" },
            prefix: { type: "string" },
            key: { type: "string", description: "The key itself: shown once, stored only as a hash" },
          },
        },
        Error: {
          type: "object",
          required: ["code", "message"],
          properties: {
            code: {
              type: "string",
              description: "Stable, machine-readable",
              examples: ["VALIDATION_FAILED"],
            },
            message: { type: "string", description: "For people; may change" },
            fields: {
              type: "object",
              additionalProperties: { type: "string" },
              description: "A message per invalid field or parameter",
            },
            traceId: { type: "string", description: "Present on server errors, for the logs" },
          },
        },
        Organization: {
          type: "object",
          required: ["id", "slug", "name"],
          properties: {
            id: { type: "string", format: "uuid" },
            slug: { type: "string" },
            name: { type: "string" },
          },
        },
        SessionMe: {
          type: "object",
          required: ["credential", "user", "organization", "role", "signInMethod", "connection", "expiresAt"],
          properties: {
            credential: { const: "session" },
            user: {
              type: "object",
              required: ["id", "email", "name"],
              properties: {
                id: { type: "string", format: "uuid" },
                email: { type: "string", format: "email" },
                name: nullable("string"),
              },
            },
            organization: { oneOf: [ref("Organization"), { type: "null" }] },
            role: { enum: ["owner", "admin", "member", null] },
            signInMethod: { enum: ["password", "linkedin", "sso"] },
            connection: {
              oneOf: [
                {
                  type: "object",
                  required: ["id", "name"],
                  properties: { id: { type: "string", format: "uuid" }, name: { type: "string" } },
                },
                { type: "null" },
              ],
            },
            expiresAt: isoTime,
            csrfToken: {
              type: "string",
              description: "Only with ?include=csrfToken: send it as x-csrf-token on POST and DELETE",
            },
          },
        },
        ApiKeyMe: {
          type: "object",
          required: ["credential", "apiKey", "organization"],
          properties: {
            credential: { const: "api_key" },
            apiKey: {
              type: "object",
              required: ["id", "name"],
              properties: { id: { type: "string", format: "uuid" }, name: { type: "string" } },
            },
            organization: ref("Organization"),
          },
        },
        CreateConnectionRequest: {
          type: "object",
          additionalProperties: false,
          required: ["type", "name", "issuer", "clientId", "domains"],
          description: "clientSecret is required unless tokenEndpointAuthMethod is private_key_jwt.",
          properties: {
            type: { const: "oidc" },
            name: { type: "string", maxLength: 100, description: "Unique across the deployment" },
            issuer: { type: "string", format: "uri", maxLength: 500, examples: ["https://acme.okta.com"] },
            clientId: { type: "string", maxLength: 500 },
            clientSecret: { type: "string", maxLength: 2000, writeOnly: true },
            domains: {
              type: "array",
              items: { type: "string", examples: ["acme.com"] },
              minItems: 1,
              maxItems: 20,
              description: "Email domains whose users sign in through this connection",
            },
            tokenEndpointAuthMethod: {
              enum: ["auto", "client_secret_basic", "client_secret_post", "private_key_jwt"],
              default: "auto",
              description:
                "auto: client_secret_basic, or client_secret_post when the provider supports only that. private_key_jwt: Gatehouse generates a key pair and publishes its public key at the connection's jwksUrl.",
            },
            extraScopes: {
              type: "array",
              items: { type: "string" },
              maxItems: 20,
              description: "Requested besides openid, email and profile",
            },
            emailClaim: {
              type: "string",
              default: "email",
              description:
                "The claim that holds the email address, e.g. preferred_username or upn for Entra ID",
            },
            clockSkewSeconds: { type: "integer", minimum: 0, maximum: 300, default: 60 },
          },
        },
        ConnectionView: {
          type: "object",
          required: [
            "id",
            "type",
            "name",
            "status",
            "issuer",
            "clientId",
            "clientSecret",
            "domains",
            "tokenEndpointAuthMethod",
            "scopes",
            "emailClaim",
            "clockSkewSeconds",
            "jwksUrl",
            "callbackUrl",
            "createdAt",
            "updatedAt",
          ],
          properties: {
            id: { type: "string", format: "uuid" },
            type: { const: "oidc" },
            name: { type: "string" },
            status: { enum: ["enabled", "disabled"] },
            issuer: { type: "string", format: "uri" },
            clientId: { type: "string" },
            clientSecret: { const: "********", description: "Always masked: the secret is never returned" },
            domains: { type: "array", items: { type: "string" } },
            tokenEndpointAuthMethod: {
              enum: ["auto", "client_secret_basic", "client_secret_post", "private_key_jwt"],
              description:
                "The method whose credentials the provider accepted; auto when its answer could not tell, chosen again at each sign-in",
            },
            scopes: { type: "array", items: { type: "string" } },
            warnings: {
              type: "array",
              items: { type: "string" },
              description:
                "Create and Edit only: what could not be checked, e.g. the provider's token endpoint gave an answer that does not tell whether the credentials are right",
            },
            emailClaim: { type: "string" },
            clockSkewSeconds: { type: "integer" },
            jwksUrl: {
              ...nullable("string"),
              description:
                "For private_key_jwt: the URL of the public keys to register at the IdP; null otherwise",
            },
            callbackUrl: {
              type: "string",
              format: "uri",
              description: "The redirect URI to register at the IdP",
            },
            createdAt: isoTime,
            updatedAt: isoTime,
          },
        },
        User: {
          type: "object",
          required: ["id", "email", "name", "role", "createdAt", "signInMethods"],
          properties: {
            id: { type: "string", format: "uuid" },
            email: { type: "string", format: "email" },
            name: nullable("string"),
            role: { enum: ["owner", "admin", "member"] },
            createdAt: isoTime,
            signInMethods: { type: "array", items: { enum: ["password", "linkedin", "sso"] } },
            lastSignInAt: { type: ["string", "null"], format: "date-time" },
          },
        },
        AuditEvent: {
          type: "object",
          required: [
            "id",
            "type",
            "outcome",
            "actorUserId",
            "userId",
            "connectionId",
            "email",
            "subject",
            "reasonCode",
            "detail",
            "traceId",
            "ip",
            "createdAt",
          ],
          properties: {
            id: { type: "string", format: "uuid" },
            type: { type: "string", examples: ["connection.created", "sign_in.sso"] },
            outcome: { enum: ["success", "failure", null] },
            actorUserId: nullable("string"),
            userId: nullable("string"),
            connectionId: nullable("string"),
            email: nullable("string"),
            subject: nullable("string"),
            reasonCode: { ...nullable("string"), description: "The error code of a failure" },
            detail: { type: ["object", "null"], description: "The technical detail; never a secret" },
            traceId: nullable("string"),
            ip: nullable("string"),
            createdAt: isoTime,
          },
        },
      },
    },
  };
}
