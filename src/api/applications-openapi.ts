/** The OpenAPI description of `/api/v1/applications`, merged into the document by openapi.ts. */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const response = (description: string, schema?: unknown) =>
  schema === undefined ? { description } : { description, content: json(schema) };
const security = [{ operatorKey: [] }];
const errors = {
  "401": { $ref: "#/components/responses/Unauthenticated" },
  "403": { $ref: "#/components/responses/Forbidden" },
};
const clientIdParameter = { name: "clientId", in: "path", required: true, schema: { type: "string" } };
const uris = { type: "array", items: { type: "string", format: "uri" } };

export const applicationPaths = {
  "/api/v1/applications": {
    get: {
      operationId: "listApplications",
      summary: "The applications that sign in through Gatehouse (OpenID Connect clients)",
      security,
      responses: {
        "200": response("The applications", {
          type: "object",
          required: ["data"],
          properties: { data: { type: "array", items: ref("Application") } },
        }),
        ...errors,
      },
    },
    post: {
      operationId: "createApplication",
      summary: "Register an application; the client secret is in this answer only",
      security,
      requestBody: {
        required: true,
        content: json({
          type: "object",
          required: ["name", "redirectUris"],
          additionalProperties: false,
          properties: {
            name: { type: "string", minLength: 1, maxLength: 200 },
            redirectUris: { ...uris, description: "Exact redirect URIs: https, or http for localhost" },
            postLogoutRedirectUris: uris,
            backchannelLogoutUri: { type: "string", format: "uri" },
            public: { type: "boolean", description: "No secret; PKCE S256 required" },
            tokenEndpointAuthMethod: {
              type: "string",
              enum: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            },
            jwksUri: { type: "string", format: "uri", description: "For private_key_jwt" },
          },
        }),
      },
      responses: {
        "201": response("The new application, with `clientSecret` for confidential ones", {
          allOf: [ref("Application"), { type: "object", properties: { clientSecret: { type: "string" } } }],
        }),
        "400": response("VALIDATION_FAILED, with a message per field in `fields`", ref("Error")),
        ...errors,
      },
    },
  },
  "/api/v1/applications/{clientId}": {
    get: {
      operationId: "getApplication",
      summary: "One application",
      security,
      parameters: [clientIdParameter],
      responses: {
        "200": response("The application", ref("Application")),
        "404": response("APPLICATION_NOT_FOUND", ref("Error")),
        ...errors,
      },
    },
    delete: {
      operationId: "deleteApplication",
      summary: "Delete an application: its codes and tokens stop working",
      security,
      parameters: [clientIdParameter],
      responses: {
        "204": response("Deleted"),
        "404": response("APPLICATION_NOT_FOUND", ref("Error")),
        ...errors,
      },
    },
  },
};

export const applicationSchemas = {
  Application: {
    type: "object",
    required: [
      "clientId",
      "name",
      "public",
      "tokenEndpointAuthMethod",
      "redirectUris",
      "postLogoutRedirectUris",
      "backchannelLogoutUri",
      "jwksUri",
      "createdAt",
    ],
    properties: {
      clientId: { type: "string" },
      name: { type: "string" },
      public: { type: "boolean" },
      tokenEndpointAuthMethod: {
        type: "string",
        enum: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
      },
      redirectUris: uris,
      postLogoutRedirectUris: uris,
      backchannelLogoutUri: { type: ["string", "null"], format: "uri" },
      jwksUri: { type: ["string", "null"], format: "uri" },
      createdAt: { type: "string", format: "date-time" },
    },
  },
};
