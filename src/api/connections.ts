import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type TSchema, Type } from "typebox";
import { urlFor } from "../config.js";
import { createConnection } from "../connections/create.js";
import {
  deleteConnection,
  disableConnection,
  enableConnection,
  signOutConnectionSessions,
} from "../connections/delete.js";
import { createSamlConnection } from "../connections/saml-create.js";
import {
  claimSamlConnectionId,
  type NewSamlConnectionId,
  reissueSamlConnectionId,
  reserveSamlConnectionId,
} from "../connections/saml-new-id.js";
import { testUnsavedSamlConnection } from "../connections/saml-test.js";
import { updateSamlConnection } from "../connections/saml-update.js";
import { testEditedConnection, testSavedConnection, testUnsavedConnection } from "../connections/test.js";
import { type ConnectionPatch, updateConnection } from "../connections/update.js";
import { CONNECTION_FIELDS } from "../connections/validate.js";
import { toConnectionView } from "../connections/view.js";
import { GatehouseError, validationError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { serviceProviderUrls } from "../sso/saml/service-provider.js";
import { findConnection, listConnections } from "../store/connections.js";
import { apiAuthentication, apiCaller, callerOrganizationId, callerUserId } from "./auth.js";
import {
  refuseOtherProtocolFields,
  SAML_PATCH_FIELDS,
  SamlChangedField,
  samlInputOfRequest,
  samlRequestProperties,
} from "./connections-saml.js";
import { isUuid } from "./input.js";
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
import { optionalBody } from "./validation.js";

const AUTH_METHODS = ["auto", "client_secret_basic", "client_secret_post", "private_key_jwt"] as const;

const RoleRule = Type.Object(
  {
    group: Type.String({ minLength: 1, maxLength: 256, description: "A value of the groups claim" }),
    role: StringEnum(["admin", "member"], { description: "Never owner: owners are made in Gatehouse" }),
  },
  { additionalProperties: false, title: "RoleRule" },
);

const roleRequestProperties = {
  groupsClaim: Type.Optional(
    Type.String({ maxLength: 100, description: "The claim listing the person's groups; default groups" }),
  ),
  roleRules: Type.Optional(
    Type.Array(RoleRule, {
      maxItems: 100,
      description:
        "With rules, the role follows the provider at every sign-in: admin when a group maps to admin, else member when one maps to member, else defaultRole. Owners are never changed.",
      errorMessage: 'Must be an array of rules, such as [{"group": "Admins", "role": "admin"}].',
    }),
  ),
  defaultRole: Type.Optional(
    StringEnum(["member", "admin"], {
      description: "The role of a new user no rule matched; default member",
      errorMessage: "Must be member or admin: the identity provider never makes an owner.",
    }),
  ),
};

const connectionViewProperties = {
  id: Uuid,
  type: Type.Literal("oidc"),
  name: Type.String(),
  status: StringEnum(["enabled", "disabled"]),
  issuer: Type.String({ format: "uri" }),
  clientId: Type.String(),
  clientSecret: Type.Literal("********", { description: "Always masked: the secret is never returned" }),
  domains: Type.Array(Type.String()),
  tokenEndpointAuthMethod: StringEnum(AUTH_METHODS, {
    description:
      "The method whose credentials the provider accepted; auto when its answer could not tell, chosen again at each sign-in",
  }),
  scopes: Type.Array(Type.String()),
  emailClaim: Type.String(),
  clockSkewSeconds: Type.Integer(),
  allowedTenants: Type.Array(Type.String(), {
    description: "Microsoft Entra ID tenant ids (tid) whose accounts may sign in",
  }),
  groupsClaim: Type.String({ description: "The claim listing the person's groups" }),
  roleRules: Type.Array(RoleRule, {
    description: "Group to role; with rules, the role follows the provider at every sign-in (never owner)",
  }),
  defaultRole: StringEnum(["member", "admin"], { description: "The role of a new user no rule matched" }),
  jwksUrl: Nullable(
    Type.String({
      description: "For private_key_jwt: the URL of the public keys to register at the IdP; null otherwise",
    }),
  ),
  callbackUrl: Type.String({ format: "uri", description: "The redirect URI to register at the IdP" }),
  createdAt: IsoTime,
  updatedAt: IsoTime,
};

const samlConnectionViewProperties = {
  id: Uuid,
  type: Type.Literal("saml"),
  name: Type.String(),
  status: StringEnum(["enabled", "disabled"]),
  domains: Type.Array(Type.String()),
  idpEntityId: Type.String({ description: "The IdP's entity ID: the exact Issuer of its assertions" }),
  ssoUrl: Type.String({ format: "uri", description: "The IdP's single sign-on URL (HTTP-Redirect)" }),
  sloUrl: Nullable(Type.String({ format: "uri", description: "The IdP's single logout URL, if it has one" })),
  signingCertificates: Type.Array(Type.String(), {
    description: "The IdP's signing certificates (PEM); a signature by any one is accepted",
  }),
  metadataUrl: Nullable(Type.String({ format: "uri" })),
  allowIdpInitiated: Type.Boolean({ description: "Whether IdP-initiated (unsolicited) sign-in is accepted" }),
  emailAttribute: Nullable(Type.String()),
  nameAttribute: Nullable(Type.String()),
  groupsAttribute: Nullable(Type.String()),
  groupsClaim: Type.String({ description: "The attribute listing the person's groups" }),
  roleRules: Type.Array(RoleRule, {
    description: "Group to role; with rules, the role follows the provider at every sign-in (never owner)",
  }),
  defaultRole: StringEnum(["member", "admin"], { description: "The role of a new user no rule matched" }),
  spEntityId: Type.String({
    format: "uri",
    description: "The SP Entity ID (Audience URI) to register at the IdP",
  }),
  spMetadataUrl: Type.String({
    format: "uri",
    description: "The SP metadata, the same URL as the SP Entity ID",
  }),
  acsUrl: Type.String({ format: "uri", description: "The ACS URL (single sign-on URL, Reply URL)" }),
  spSloUrl: Type.String({ format: "uri", description: "Gatehouse's single logout URL (HTTP-Redirect)" }),
  spCertificate: Type.String({
    description: "The connection's own certificate (request signing, encryption)",
  }),
  createdAt: IsoTime,
  updatedAt: IsoTime,
};

/** Each protocol's view with `extra` properties, as one schema told apart by `type`. */
function eachProtocol<P extends Record<string, TSchema>>(
  extra: P,
  options: { title: string; description?: string },
) {
  return Type.Union(
    [
      Type.Object({ ...connectionViewProperties, ...extra }, { title: `Oidc${options.title}` }),
      Type.Object({ ...samlConnectionViewProperties, ...extra }, { title: `Saml${options.title}` }),
    ],
    options,
  );
}

export const ConnectionView = eachProtocol({}, { title: "ConnectionView" });

const CreatedConnection = eachProtocol(
  {
    warnings: Type.Optional(
      Type.Array(Type.String(), {
        description:
          "What could not be checked, e.g. the provider's token endpoint gave an answer that does not tell whether the credentials are right",
      }),
    ),
  },
  { title: "CreatedConnection", description: "Created" },
);

const ChangedConnection = eachProtocol(
  { sessionsEnded: Type.Integer({ description: "How many sessions ended with the change" }) },
  { title: "ChangedConnection", description: "The connection, with sessionsEnded" },
);

const CreateOidcConnectionRequest = Type.Object(
  {
    type: Type.Literal("oidc"),
    name: Type.String({ maxLength: 100, description: "Unique across the deployment" }),
    issuer: Type.String({ maxLength: 500, examples: ["https://acme.okta.com"] }),
    clientId: Type.String({ maxLength: 500 }),
    clientSecret: Type.Optional(
      Type.String({
        maxLength: 2000,
        writeOnly: true,
        description: "Required unless tokenEndpointAuthMethod is private_key_jwt",
      }),
    ),
    domains: Type.Array(Type.String({ examples: ["acme.com"] }), {
      maxItems: 20,
      description: "Email domains whose users sign in through this connection",
      errorMessage: 'Must be an array of email domains, such as ["acme.com"].',
    }),
    tokenEndpointAuthMethod: Type.Optional(
      StringEnum(AUTH_METHODS, {
        default: "auto",
        description:
          "auto: client_secret_basic, or client_secret_post when the provider supports only that. private_key_jwt: Gatehouse generates a key pair and publishes its public key at the connection's jwksUrl.",
      }),
    ),
    extraScopes: Type.Optional(
      Type.Array(Type.String(), {
        maxItems: 20,
        description: "Requested besides openid, email and profile",
        errorMessage: 'Must be an array of scope names, such as ["groups"].',
      }),
    ),
    emailClaim: Type.Optional(
      Type.String({
        default: "email",
        description: "The claim that holds the email address, e.g. preferred_username or upn for Entra ID",
      }),
    ),
    clockSkewSeconds: Type.Optional(
      Type.Integer({ default: 60, errorMessage: "Must be a whole number of seconds." }),
    ),
    allowedTenants: Type.Optional(
      Type.Array(Type.String(), {
        maxItems: 50,
        description:
          "Microsoft Entra ID tenant ids (tid) whose accounts may sign in; required for a multi-tenant issuer (/common, /organizations, /consumers, or any issuer publishing a {tenantid} template)",
        errorMessage: 'Must be an array of tenant ids, such as ["72f988bf-86f1-41af-91ab-2d7cd011db47"].',
      }),
    ),
    ...roleRequestProperties,
  },
  { additionalProperties: false, title: "CreateOidcConnectionRequest" },
);

const CreateSamlConnectionRequest = Type.Object(
  {
    type: Type.Literal("saml"),
    name: Type.String({ maxLength: 100, description: "Unique across the deployment" }),
    domains: CreateOidcConnectionRequest.properties.domains,
    ...samlRequestProperties,
    connectionId: Type.Optional(
      Type.String({
        format: "uuid",
        description:
          "The id a test of these values answered (`saml.connectionId` of POST /connections/test), with `connectionIdProof`: the connection takes it, so the ACS URL and SP Entity ID registered at the IdP for the test stay right. Without it, a new id.",
      }),
    ),
    connectionIdProof: Type.Optional(
      Type.String({ maxLength: 100, description: "The proof answered with `connectionId`" }),
    ),
    roleRules: roleRequestProperties.roleRules,
    defaultRole: roleRequestProperties.defaultRole,
  },
  { additionalProperties: false, title: "CreateSamlConnectionRequest" },
);

/** One body per protocol, told apart by `type` (validation.ts checks the branch it names). */
export const CreateConnectionRequest = Type.Union(
  [CreateOidcConnectionRequest, CreateSamlConnectionRequest],
  {
    title: "CreateConnectionRequest",
    discriminator: { propertyName: "type" },
  },
);

export const UpdateConnectionRequest = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 100 })),
    issuer: Type.Optional(Type.String({ maxLength: 500 })),
    clientId: Type.Optional(Type.String({ maxLength: 500 })),
    clientSecret: Type.Optional(
      Type.String({
        maxLength: 2000,
        writeOnly: true,
        description: "A new client secret; absent or empty keeps the stored one",
      }),
    ),
    domains: Type.Optional(
      Type.Array(Type.String(), {
        maxItems: 20,
        description: "The full list of domains after the edit",
        errorMessage: 'Must be an array of email domains, such as ["acme.com"].',
      }),
    ),
    tokenEndpointAuthMethod: Type.Optional(
      StringEnum(AUTH_METHODS, {
        description:
          "Held to when given. When absent and the issuer or credentials change, the method is chosen again as with auto (private_key_jwt stays)",
      }),
    ),
    extraScopes: Type.Optional(
      Type.Array(Type.String(), {
        maxItems: 20,
        errorMessage: 'Must be an array of scope names, such as ["groups"].',
      }),
    ),
    emailClaim: Type.Optional(Type.String()),
    clockSkewSeconds: Type.Optional(Type.Integer({ errorMessage: "Must be a whole number of seconds." })),
    allowedTenants: Type.Optional(
      Type.Array(Type.String(), {
        maxItems: 50,
        errorMessage: 'Must be an array of tenant ids, such as ["72f988bf-86f1-41af-91ab-2d7cd011db47"].',
      }),
    ),
    ...roleRequestProperties,
    ...samlRequestProperties,
  },
  {
    additionalProperties: false,
    title: "UpdateConnectionRequest",
    description:
      "Only the settings of the connection's own protocol: issuer, clientId, … for OpenID Connect; metadataUrl, metadataXml or entityId + ssoUrl + certificates, allowIdpInitiated and the attribute names for SAML (new IdP settings replace the old ones; the SP Entity ID, ACS URL and certificate never change).",
  },
);

const UpdatedConnection = eachProtocol(
  {
    changed: Type.Array(Type.Union([StringEnum(CONNECTION_FIELDS), SamlChangedField]), {
      description: "The fields this edit changed (clientSecret when a new, different secret was given)",
    }),
    sessionsEnded: Type.Integer({
      description:
        "Password and LinkedIn sessions ended because a domain added to an enabled connection now requires SSO",
    }),
    warnings: Type.Optional(
      Type.Array(Type.String(), {
        description: "What could not be checked, as at Create",
      }),
    ),
  },
  { title: "UpdatedConnection", description: "The connection as saved, with what changed" },
);

const notFoundDescription = "CONNECTION_NOT_FOUND";

/** What a PATCH may name for an OpenID Connect connection: everything but the SAML settings. */
const OIDC_PATCH_FIELDS = Object.keys(UpdateConnectionRequest.properties).filter(
  (k) => !(k in samlRequestProperties),
);

/** Another organization's id answers exactly like an id that does not exist, so ids don't leak. */
function notFound(): GatehouseError {
  return new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
}

function connectionId(params: { id: string }): string {
  if (!isUuid(params.id)) throw notFound();
  return params.id.toLowerCase();
}

export function registerConnectionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const preValidation = apiAuthentication(app, ctx, "admin");
  const tags = ["Connections"];

  api.get(
    "/connections",
    {
      preValidation,
      schema: {
        operationId: "listConnections",
        summary: "The organization's SSO connections, oldest first",
        tags,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(ConnectionView, "The connections"), ...errors({ 400: "VALIDATION_FAILED" }) },
      },
    },
    async (request) => {
      const page = readPage<[number, string]>(request.query, ["number", "string"]);
      const rows = await listConnections(ctx.store.db, callerOrganizationId(request), {
        limit: page.limit + 1,
        after: page.after,
      });
      return toPage(
        rows,
        page.limit,
        (c) => [c.createdAt, c.id],
        (c) => toConnectionView(ctx.config, c),
      );
    },
  );

  api.post(
    "/connections",
    {
      preValidation,
      config: { idempotent: true },
      schema: {
        operationId: "createConnection",
        summary: "Create an OpenID Connect or SAML 2.0 connection",
        description:
          "Checks the fields, that the name and domains are free, and the provider (OpenID Connect: the issuer's discovery document and the credentials; SAML, type \"saml\": the IdP's metadata, downloaded from metadataUrl or given as metadataXml, or entityId + ssoUrl + certificates by hand), then creates the connection enabled: from then on users at its verified domains must sign in through it; new domains join the organization pending (public suffixes and public email providers are refused). A SAML connection answers the acsUrl, spEntityId and spMetadataUrl to register at the IdP. A refusal writes nothing.",
        tags,
        headers: IdempotencyHeaders,
        body: CreateConnectionRequest,
        response: {
          201: CreatedConnection,
          ...errors({
            400: "VALIDATION_FAILED, SSO_DISCOVERY_FAILED, SSO_ISSUER_MISMATCH or SSO_ISSUER_NOT_ALLOWED, with `fields`",
            409: "CONFLICT: the name or a domain is already in use, or (SAML) the connectionId was just used by another Create, with `fields`; IDEMPOTENCY_KEY_IN_USE",
            422: "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key came with another body",
          }),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const caller = apiCaller(request);
      if (body.type === "saml") {
        const organizationId = callerOrganizationId(request);
        const { connection } = await createSamlConnection(ctx, {
          organizationId,
          connectionId: samlConnectionIdOf(organizationId, body)?.id,
          input: {
            idp: {},
            ...samlInputOfRequest(body),
            name: body.name,
            domains: body.domains,
            roleRules: body.roleRules,
            defaultRole: body.defaultRole,
          },
          actorUserId: callerUserId(request),
          actorSessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
          ip: request.ip,
        });
        return reply
          .status(201)
          .header("location", urlFor(ctx.config, `api/v1/connections/${connection.id}`))
          .send(connection);
      }
      // The one credential private_key_jwt does without.
      if (body.clientSecret === undefined && body.tokenEndpointAuthMethod !== "private_key_jwt") {
        throw validationError({ clientSecret: "Required." });
      }
      const { connection, credentialsNote } = await createConnection(ctx, {
        organizationId: callerOrganizationId(request),
        input: {
          name: body.name,
          issuer: body.issuer,
          clientId: body.clientId,
          clientSecret: body.clientSecret ?? "",
          domains: body.domains,
          tokenEndpointAuthMethod: body.tokenEndpointAuthMethod,
          extraScopes: body.extraScopes,
          emailClaim: body.emailClaim,
          clockSkewSeconds: body.clockSkewSeconds,
          allowedTenants: body.allowedTenants,
          groupsClaim: body.groupsClaim,
          roleRules: body.roleRules,
          defaultRole: body.defaultRole,
        },
        actorUserId: callerUserId(request),
        // The admin's own password session survives the switch to SSO; see createConnection.
        actorSessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
        ip: request.ip,
      });
      return reply
        .status(201)
        .header("location", urlFor(ctx.config, `api/v1/connections/${connection.id}`))
        .send(credentialsNote ? { ...connection, warnings: [credentialsNote] } : connection);
    },
  );

  /** The id a SAML body names with its proof, when it names one; a 400 when the proof is not this organization's. */
  const samlConnectionIdOf = (
    organizationId: string,
    body: { connectionId?: string | undefined; connectionIdProof?: string | undefined },
  ): NewSamlConnectionId | undefined => {
    if (body.connectionId === undefined && body.connectionIdProof === undefined) return undefined;
    const id = claimSamlConnectionId(ctx, organizationId, body.connectionId, body.connectionIdProof);
    return reissueSamlConnectionId(ctx, organizationId, id);
  };

  const ConnectionTest = Type.Object(
    {
      id: Type.String({ format: "uuid" }),
      url: Type.String({ format: "uri", description: "Open it to go through the provider" }),
      resultUrl: Type.String({ format: "uri", description: "The result page, once back" }),
      expiresAt: Type.String({ format: "date-time" }),
      saml: Type.Optional(
        Type.Object(
          {
            connectionId: Type.String({
              format: "uuid",
              description:
                "The id the connection will have, reserved for the organization until a Create uses it: send it (with the proof) to Create",
            }),
            connectionIdProof: Type.String(),
            acsUrl: Type.String({
              format: "uri",
              description: "Register it at the IdP before opening `url`",
            }),
            spEntityId: Type.String({ format: "uri" }),
          },
          { description: "A SAML test: the service provider values the IdP must hold" },
        ),
      ),
    },
    { title: "ConnectionTest", description: "The test, and the URL to open" },
  );
  const testDescription =
    "Open `url` in a browser signed in as an admin of the organization, within 10 minutes: it goes through the provider and back to a result page with each check (expected and received values), the claims and what a sign-in would produce, and signs no one in. The test belongs to the session that started it (with an API key: the first admin session that opens it).";

  api.post(
    "/connections/test",
    {
      preValidation,
      schema: {
        operationId: "testUnsavedConnection",
        summary: "Test sign-in with connection values not saved yet",
        description: `Checks the values as Create does and keeps them for 10 minutes, server-side; nothing is created. OpenID Connect: fields, name and domains free, discovery, the credentials at the token endpoint; the client secret is sealed. SAML (type "saml"): fields, name and domains free, the IdP's metadata; the answer's \`saml\` holds the ACS URL and SP Entity ID of the id the connection will have, to register at the IdP before opening \`url\`: the organization's reserved id, the same on every call and on the Setup page until a Create uses it (send \`connectionId\` and \`connectionIdProof\` again to test or create with it). The IdP must not encrypt assertions in a test before creation: Gatehouse's certificate exists once the connection is created. ${testDescription}`,
        tags,
        headers: CsrfHeaders,
        body: CreateConnectionRequest,
        response: {
          201: ConnectionTest,
          ...errors({
            400: "VALIDATION_FAILED (a refused client secret is a field error on clientSecret), SSO_DISCOVERY_FAILED, SSO_ISSUER_MISMATCH or SSO_ISSUER_NOT_ALLOWED, with `fields`; REQUEST_INVALID: a SAML connectionId without its proof",
            409: "CONFLICT: the name or a domain is already in use, with `fields`",
          }),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.type === "saml") {
        const organizationId = callerOrganizationId(request);
        const newId =
          samlConnectionIdOf(organizationId, body) ?? (await reserveSamlConnectionId(ctx, organizationId));
        const started = await testUnsavedSamlConnection(
          ctx,
          actorOf(request),
          { kind: "new", connectionId: newId.id },
          {
            ...samlInputOfRequest(body),
            name: body.name,
            domains: body.domains,
            roleRules: body.roleRules,
            defaultRole: body.defaultRole,
          },
        );
        const sp = serviceProviderUrls(ctx.config.baseUrl.toString(), newId.id);
        return reply.status(201).send({
          ...started,
          saml: {
            connectionId: newId.id,
            connectionIdProof: newId.proof,
            acsUrl: sp.acsUrl,
            spEntityId: sp.entityId,
          },
        });
      }
      if (body.clientSecret === undefined && body.tokenEndpointAuthMethod !== "private_key_jwt") {
        throw validationError({ clientSecret: "Required." });
      }
      const started = await testUnsavedConnection(ctx, actorOf(request), {
        name: body.name,
        issuer: body.issuer,
        clientId: body.clientId,
        clientSecret: body.clientSecret ?? "",
        domains: body.domains,
        tokenEndpointAuthMethod: body.tokenEndpointAuthMethod,
        extraScopes: body.extraScopes,
        emailClaim: body.emailClaim,
        clockSkewSeconds: body.clockSkewSeconds,
        groupsClaim: body.groupsClaim,
        roleRules: body.roleRules,
        defaultRole: body.defaultRole,
      });
      return reply.status(201).send(started);
    },
  );

  api.post(
    "/connections/:id/test",
    {
      preValidation,
      schema: {
        operationId: "testConnection",
        summary:
          "Test sign-in through a saved connection, enabled or disabled, or with changes before they are saved",
        description: `Without a body (or with \`{}\`): the saved settings. With the fields of PATCH /connections/{id}: the connection with those changes, checked as PATCH checks them (the provider is asked again only when the issuer, client ID, secret or token endpoint authentication change; an absent secret is the stored one) and kept for 10 minutes like a test of unsaved values; nothing is saved, and the saved connection goes on signing people in unchanged. Refusals are PATCH's. ${testDescription}`,
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        body: optionalBody(UpdateConnectionRequest),
        response: {
          201: ConnectionTest,
          ...errors({
            400: "VALIDATION_FAILED, SSO_DISCOVERY_FAILED, SSO_ISSUER_MISMATCH or SSO_ISSUER_NOT_ALLOWED, with `fields`",
            404: notFoundDescription,
            409: "CONFLICT: the name or a domain is already in use (with `fields`)",
          }),
        },
      },
    },
    async (request, reply) => {
      const id = connectionId(request.params);
      const body = request.body ?? {};
      if (Object.values(body).every((v) => v === undefined)) {
        return reply.status(201).send(await testSavedConnection(ctx, actorOf(request), id));
      }
      const existing = await findConnection(ctx.store.db, callerOrganizationId(request), id);
      if (!existing) throw notFound();
      if (existing.protocol === "saml") {
        refuseOtherProtocolFields(body, SAML_PATCH_FIELDS, "SAML");
        const started = await testUnsavedSamlConnection(
          ctx,
          actorOf(request),
          { kind: "edit", connectionId: id },
          {
            ...samlInputOfRequest(body),
            name: body.name ?? existing.name,
            domains: body.domains ?? existing.domains,
            roleRules: body.roleRules,
            defaultRole: body.defaultRole,
          },
        );
        return reply.status(201).send(started);
      }
      refuseOtherProtocolFields(body, OIDC_PATCH_FIELDS, "OpenID Connect");
      const started = await testEditedConnection(ctx, actorOf(request), id, body as ConnectionPatch);
      return reply.status(201).send(started);
    },
  );

  api.get(
    "/connections/:id",
    {
      preValidation,
      schema: {
        operationId: "getConnection",
        summary: "One connection",
        tags,
        params: IdParams,
        response: { 200: ConnectionView, ...errors({ 404: notFoundDescription }) },
      },
    },
    async (request) => {
      const connection = await findConnection(
        ctx.store.db,
        callerOrganizationId(request),
        connectionId(request.params),
      );
      if (!connection) throw notFound();
      return toConnectionView(ctx.config, connection);
    },
  );

  api.patch(
    "/connections/:id",
    {
      preValidation,
      schema: {
        operationId: "updateConnection",
        summary: "Edit a connection",
        description:
          "Send only the fields to change. The client secret is write-only: absent or empty keeps the stored one. The checks are Create's: a new issuer, client ID, secret or token endpoint authentication runs discovery and the credentials check again, and a refusal (a wrong secret is a field error on clientSecret quoting the provider) saves nothing. Audited as connection.updated with the names of the changed fields.",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        body: UpdateConnectionRequest,
        response: {
          200: UpdatedConnection,
          ...errors({
            400: "VALIDATION_FAILED, SSO_DISCOVERY_FAILED, SSO_ISSUER_MISMATCH or SSO_ISSUER_NOT_ALLOWED, with `fields`",
            404: notFoundDescription,
            409: "CONFLICT: the name or a domain is already in use (with `fields`), or the connection changed meanwhile",
          }),
        },
      },
    },
    async (request) => {
      const id = connectionId(request.params);
      const existing = await findConnection(ctx.store.db, callerOrganizationId(request), id);
      if (!existing) throw notFound();
      if (existing.protocol === "saml") {
        const body = request.body;
        refuseOtherProtocolFields(body, SAML_PATCH_FIELDS, "SAML");
        const updated = await updateSamlConnection(ctx, actorOf(request), id, {
          ...samlInputOfRequest(body),
          name: body.name,
          domains: body.domains,
          roleRules: body.roleRules,
          defaultRole: body.defaultRole,
        });
        return { ...updated.connection, changed: updated.changed, sessionsEnded: updated.revokedSessions };
      }
      refuseOtherProtocolFields(request.body, OIDC_PATCH_FIELDS, "OpenID Connect");
      const { connection, changed, credentialsNote, revokedSessions } = await updateConnection(
        ctx,
        actorOf(request),
        id,
        request.body as ConnectionPatch,
      );
      return {
        ...connection,
        changed,
        sessionsEnded: revokedSessions,
        ...(credentialsNote ? { warnings: [credentialsNote] } : {}),
      };
    },
  );

  api.delete(
    "/connections/:id",
    {
      preValidation,
      schema: {
        operationId: "deleteConnection",
        summary: "Delete a connection",
        description:
          "Deletes the connection, its domains and its users' links to it. The users keep their accounts; those with a password or LinkedIn can sign in with it again, and those with neither (accounts single sign-on created) cannot sign in until a connection serves their domain again. The connection.deleted event counts both (peopleWithPasswordOrLinkedIn, peopleWithNeither).",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        response: { 204: NoContent, ...errors({ 404: notFoundDescription }) },
      },
    },
    async (request, reply) => {
      await deleteConnection(ctx, actorOf(request), connectionId(request.params));
      return reply.status(204).send(null);
    },
  );

  api.post(
    "/connections/:id/disable",
    {
      preValidation,
      schema: {
        operationId: "disableConnection",
        summary: "Disable a connection, keeping its configuration",
        description:
          'A disabled connection routes no one and enforces nothing: people at its domains can sign in only with a password or LinkedIn, and those with neither (accounts single sign-on created) cannot sign in until it is enabled again; the connection.disabled event counts both (peopleWithPasswordOrLinkedIn, peopleWithNeither). By default the sessions it issued end too; send {"endSessions": false} to keep them. Disabling a disabled connection changes nothing and records nothing.',
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        body: optionalBody(
          Type.Object(
            {
              endSessions: Type.Optional(
                Type.Boolean({ default: true, errorMessage: "Must be true or false." }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: {
          200: ChangedConnection,
          ...errors({ 400: "VALIDATION_FAILED", 404: notFoundDescription }),
        },
      },
    },
    async (request) => {
      const id = connectionId(request.params);
      const { sessionsEnded } = await disableConnection(ctx, actorOf(request), id, {
        endSessions: request.body?.endSessions ?? true,
      });
      return { ...(await viewOf(request, id)), sessionsEnded };
    },
  );

  api.post(
    "/connections/:id/enable",
    {
      preValidation,
      schema: {
        operationId: "enableConnection",
        summary: "Enable a disabled connection",
        description:
          "From now on people at its domains sign in through it; their password and LinkedIn sessions end (sessionsEnded).",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        response: { 200: ChangedConnection, ...errors({ 404: notFoundDescription }) },
      },
    },
    async (request) => {
      const id = connectionId(request.params);
      const { sessionsEnded } = await enableConnection(ctx, actorOf(request), id);
      return { ...(await viewOf(request, id)), sessionsEnded };
    },
  );

  api.post(
    "/connections/:id/sessions/revoke",
    {
      preValidation,
      schema: {
        operationId: "revokeConnectionSessions",
        summary: "Sign out everyone who signed in through this connection",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        response: {
          200: Type.Object({ sessionsEnded: Type.Integer() }, { description: "How many sessions ended" }),
          ...errors({ 404: notFoundDescription }),
        },
      },
    },
    async (request) => {
      const sessionsEnded = await signOutConnectionSessions(
        ctx,
        actorOf(request),
        connectionId(request.params),
      );
      return { sessionsEnded };
    },
  );

  function actorOf(request: FastifyRequest) {
    const caller = apiCaller(request);
    return {
      organizationId: callerOrganizationId(request),
      actorUserId: callerUserId(request),
      actorSessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
      ip: request.ip,
    };
  }

  async function viewOf(request: FastifyRequest, id: string) {
    const connection = await findConnection(ctx.store.db, callerOrganizationId(request), id);
    if (!connection) throw notFound();
    return toConnectionView(ctx.config, connection);
  }
}
