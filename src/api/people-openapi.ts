/**
 * The OpenAPI description of `/api/v1/organizations`, `/api/v1/users/{id}` and
 * `/api/v1/invitations`, merged into the document by openapi.ts.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const response = (description: string, schema?: unknown) =>
  schema === undefined ? { description } : { description, content: json(schema) };
const errors = {
  "401": { $ref: "#/components/responses/Unauthenticated" },
  "403": { $ref: "#/components/responses/Forbidden" },
};
const operator = [{ operatorKey: [] }];
const csrf = { $ref: "#/components/parameters/CsrfToken" };
const idParameter = { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } };
const isoTime = { type: "string", format: "date-time" };
const role = { type: "string", enum: ["admin", "member"] };
const invalid = response("VALIDATION_FAILED, with a message per field in `fields`", ref("Error"));
const conflict = response("CONFLICT: the address already has an account", ref("Error"));

export const peoplePaths = {
  "/api/v1/organizations": {
    get: {
      operationId: "listOrganizations",
      summary: "Every organization, by slug",
      security: operator,
      parameters: [
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200, default: 50 } },
        {
          name: "after",
          in: "query",
          description: "The `next` value of the previous page",
          schema: { type: "string" },
        },
      ],
      responses: {
        "200": response("A page of organizations", {
          type: "object",
          required: ["data", "next"],
          properties: {
            data: { type: "array", items: ref("Organization") },
            next: {
              type: ["string", "null"],
              description: "Pass as `after` for the next page; null on the last",
            },
          },
        }),
        "400": invalid,
        ...errors,
      },
    },
    post: {
      operationId: "createOrganization",
      summary: "Create an organization and invite its first owner; the setup link is in this answer only",
      security: operator,
      requestBody: {
        required: true,
        content: json({
          type: "object",
          required: ["slug", "name", "adminEmail"],
          additionalProperties: false,
          properties: {
            slug: { type: "string", pattern: "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$" },
            name: { type: "string", minLength: 1, maxLength: 100 },
            adminEmail: { type: "string", format: "email" },
            adminName: { type: "string", maxLength: 100 },
          },
        }),
      },
      responses: {
        "201": response("The organization and the owner's invitation", {
          allOf: [
            ref("Organization"),
            {
              type: "object",
              required: ["invitation"],
              properties: { invitation: ref("CreatedInvitation") },
            },
          ],
        }),
        "400": invalid,
        "409": response("CONFLICT: the slug is taken or the address already has an account", ref("Error")),
        ...errors,
      },
    },
  },
  "/api/v1/organizations/{id}": {
    get: {
      operationId: "getOrganization",
      summary: "One organization",
      security: operator,
      parameters: [idParameter],
      responses: {
        "200": response("The organization", ref("Organization")),
        "404": response("NOT_FOUND", ref("Error")),
        ...errors,
      },
    },
  },
  "/api/v1/users/{id}": {
    patch: {
      operationId: "changeUserRole",
      summary: "Change a member's role",
      description:
        "The last owner is never demoted; owners are changed only by owners; nobody changes themselves.",
      parameters: [idParameter, csrf],
      requestBody: {
        required: true,
        content: json({
          type: "object",
          required: ["role"],
          additionalProperties: false,
          properties: { role },
        }),
      },
      responses: {
        "200": response("The new role", {
          type: "object",
          required: ["id", "role"],
          properties: { id: { type: "string", format: "uuid" }, role },
        }),
        "400": invalid,
        "404": response("NOT_FOUND", ref("Error")),
        "409": response("MEMBER_CHANGE_REFUSED", ref("Error")),
        ...errors,
      },
    },
    delete: {
      operationId: "removeUser",
      summary: "Remove a person from the organization; their sessions end",
      parameters: [idParameter, csrf],
      responses: {
        "204": response("Removed"),
        "404": response("NOT_FOUND", ref("Error")),
        "409": response("MEMBER_CHANGE_REFUSED", ref("Error")),
        ...errors,
      },
    },
  },
  "/api/v1/invitations": {
    get: {
      operationId: "listInvitations",
      summary: "Invitations neither accepted nor revoked, newest first (expired ones included)",
      responses: {
        "200": response("The invitations", {
          type: "object",
          required: ["data"],
          properties: { data: { type: "array", items: ref("Invitation") } },
        }),
        ...errors,
      },
    },
    post: {
      operationId: "createInvitation",
      summary: "Invite a person; the one-time setup link (valid 72 hours) is in this answer only",
      parameters: [csrf],
      requestBody: {
        required: true,
        content: json({
          type: "object",
          required: ["email", "role"],
          additionalProperties: false,
          properties: { email: { type: "string", format: "email" }, role },
        }),
      },
      responses: {
        "201": response("The invitation and its link", ref("CreatedInvitation")),
        "400": invalid,
        "409": conflict,
        ...errors,
      },
    },
  },
  "/api/v1/invitations/{id}/resend": {
    post: {
      operationId: "resendInvitation",
      summary: "A new setup link for the same address and role; the previous link stops working",
      parameters: [idParameter, csrf],
      responses: {
        "201": response("The new invitation and its link", ref("CreatedInvitation")),
        "404": response("NOT_FOUND: no such open invitation", ref("Error")),
        "409": conflict,
        ...errors,
      },
    },
  },
  "/api/v1/invitations/{id}": {
    delete: {
      operationId: "revokeInvitation",
      summary: "Withdraw an invitation: its link stops working",
      parameters: [idParameter, csrf],
      responses: {
        "204": response("Revoked"),
        "404": response("NOT_FOUND: no such open invitation", ref("Error")),
        ...errors,
      },
    },
  },
};

const invitation = {
  type: "object",
  required: ["id", "email", "role", "state", "createdAt", "expiresAt"],
  properties: {
    id: { type: "string", format: "uuid" },
    email: { type: "string", format: "email" },
    role: { type: "string", enum: ["owner", "admin", "member"] },
    state: { type: "string", enum: ["pending", "expired", "accepted", "revoked"] },
    createdAt: isoTime,
    expiresAt: isoTime,
  },
};

export const peopleSchemas = {
  Organization: {
    type: "object",
    required: ["id", "slug", "name", "createdAt"],
    properties: {
      id: { type: "string", format: "uuid" },
      slug: { type: "string" },
      name: { type: "string" },
      createdAt: isoTime,
    },
  },
  Invitation: invitation,
  CreatedInvitation: {
    allOf: [
      ref("Invitation"),
      {
        type: "object",
        required: ["setupLink"],
        properties: {
          setupLink: {
            type: "string",
            format: "uri",
            description: "The one-time link to hand to the person; Gatehouse keeps only its hash",
          },
        },
      },
    ],
  },
};
