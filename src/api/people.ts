import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { createInvitation, resendInvitation, revokeInvitation } from "../accounts/invitations.js";
import { createOrganizationWithAdmin } from "../accounts/organizations.js";
import { changeMemberRole, type PeopleActor, removeMember } from "../accounts/people.js";
import { type SignOutActor, signOutMember, signOutOrganization } from "../accounts/sign-out-everywhere.js";
import { urlFor } from "../config.js";
import { ASSIGNABLE_ROLES, invitationState } from "../domain/people.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { findInvitation, type Invitation, listOpenInvitations } from "../store/invitations.js";
import { findOrganizationById, listOrganizations, type Organization } from "../store/organizations.js";
import { apiAuthentication, apiCaller, callerOrganizationId } from "./auth.js";
import { isUuid } from "./input.js";
import { readPage, toPage } from "./pagination.js";
import {
  CsrfHeaders,
  errors,
  IdempotencyHeaders,
  IdParams,
  IsoTime,
  NoContent,
  Page,
  PageQuery,
  StringEnum,
  Uuid,
} from "./schemas.js";

const iso = (ms: number) => new Date(ms).toISOString();

const OrganizationDetails = Type.Object(
  { id: Uuid, slug: Type.String(), name: Type.String(), createdAt: IsoTime },
  { title: "OrganizationDetails" },
);

const invitationProperties = {
  id: Uuid,
  email: Type.String({ format: "email" }),
  role: StringEnum(["owner", "admin", "member"]),
  state: StringEnum(["pending", "expired", "accepted", "revoked"]),
  createdAt: IsoTime,
  expiresAt: IsoTime,
};
const InvitationView = Type.Object(invitationProperties, { title: "Invitation" });
const CreatedInvitation = Type.Object(
  {
    ...invitationProperties,
    setupLink: Type.String({
      format: "uri",
      description:
        "The one-time link to hand to the person (72 hours, single use); Gatehouse keeps only its hash",
    }),
  },
  { title: "CreatedInvitation", description: "The invitation and its setup link, shown only here" },
);
const CreatedOrganization = Type.Object(
  { ...OrganizationDetails.properties, invitation: CreatedInvitation },
  { title: "CreatedOrganization", description: "The organization and its first owner's invitation" },
);

const AssignableRole = StringEnum(ASSIGNABLE_ROLES, { errorMessage: 'Must be "admin" or "member".' });

function toInvitationView(invitation: Invitation, now: number) {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    state: invitationState(invitation, now),
    createdAt: iso(invitation.createdAt),
    expiresAt: iso(invitation.expiresAt),
  };
}

function toOrganizationView(organization: Organization) {
  return {
    id: organization.id,
    slug: organization.slug,
    name: organization.name,
    createdAt: iso(organization.createdAt),
  };
}

function actorOf(request: FastifyRequest): PeopleActor {
  const caller = apiCaller(request);
  return caller.kind === "session"
    ? { userId: caller.session.userId, role: caller.session.role }
    : { userId: null, role: null };
}

function signOutActorOf(request: FastifyRequest): SignOutActor {
  const caller = apiCaller(request);
  return {
    organizationId: callerOrganizationId(request),
    userId: caller.kind === "session" ? caller.session.userId : null,
    sessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
    ip: request.ip,
  };
}

function idOf(params: { id: string }, notFound: () => GatehouseError): string {
  if (!isUuid(params.id)) throw notFound();
  return params.id.toLowerCase();
}

const noOrganization = () => new GatehouseError("NOT_FOUND", "No such organization.");
const noMember = () => new GatehouseError("NOT_FOUND", "No such member of this organization.");
const noInvitation = () => new GatehouseError("NOT_FOUND", "No such open invitation.");

/** `/api/v1/organizations`: the operator onboards customers without a shell. */
export function registerOrganizationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const preValidation = apiAuthentication(app, ctx, "operator");
  const security = [{ operatorKey: [] }];
  const tags = ["Organizations"];

  api.get(
    "/organizations",
    {
      preValidation,
      schema: {
        operationId: "listOrganizations",
        summary: "Every organization, by slug",
        tags,
        security,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Page(OrganizationDetails, "The organizations"),
          ...errors({ 400: "VALIDATION_FAILED" }),
        },
      },
    },
    async (request) => {
      const page = readPage<[string]>(request.query, ["string"]);
      const rows = await listOrganizations(ctx.store.db, { limit: page.limit + 1, after: page.after?.[0] });
      return toPage(rows, page.limit, (o) => [o.slug], toOrganizationView);
    },
  );

  api.post(
    "/organizations",
    {
      preValidation,
      config: { idempotent: true },
      schema: {
        operationId: "createOrganization",
        summary: "Create an organization and invite its first owner; the setup link is in this answer only",
        tags,
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            slug: Type.String({
              maxLength: 200,
              errorMessage: "Required: lower-case letters, digits and hyphens.",
            }),
            name: Type.String({ maxLength: 200, errorMessage: "Required: 1-100 characters." }),
            adminEmail: Type.String({
              maxLength: 320,
              errorMessage: "Required: the first owner's email address.",
            }),
            adminName: Type.Optional(Type.String({ maxLength: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: CreatedOrganization,
          ...errors({
            400: "VALIDATION_FAILED",
            409: "CONFLICT (the slug is taken, or the address already has an account) or IDEMPOTENCY_KEY_IN_USE",
            422: "IDEMPOTENCY_KEY_REUSED",
          }),
        },
      },
    },
    async (request, reply) => {
      const created = await createOrganizationWithAdmin(ctx, request.body);
      if (created.setupLink === undefined) {
        throw new GatehouseError("INTERNAL", "organization created without an invitation");
      }
      return reply
        .status(201)
        .header("location", urlFor(ctx.config, `api/v1/organizations/${created.organization.id}`))
        .send({
          ...toOrganizationView(created.organization),
          invitation: { ...toInvitationView(created.invitation, ctx.now()), setupLink: created.setupLink },
        });
    },
  );

  api.get(
    "/organizations/:id",
    {
      preValidation,
      schema: {
        operationId: "getOrganization",
        summary: "One organization",
        tags,
        security,
        params: IdParams,
        response: { 200: OrganizationDetails, ...errors({ 404: "NOT_FOUND" }) },
      },
    },
    async (request) => {
      const organization = await findOrganizationById(ctx.store.db, idOf(request.params, noOrganization));
      if (!organization) throw noOrganization();
      return toOrganizationView(organization);
    },
  );
}

/** Members and invitations of the caller's organization: `/api/v1/users/{id}`, `/api/v1/invitations`. */
export function registerPeopleRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const preValidation = apiAuthentication(app, ctx, "admin");

  api.patch(
    "/users/:id",
    {
      preValidation,
      schema: {
        operationId: "changeUserRole",
        summary: "Change a member's role",
        description: "The last owner is never demoted; only owners change owners; nobody changes themselves.",
        tags: ["Users"],
        params: IdParams,
        headers: CsrfHeaders,
        body: Type.Object({ role: AssignableRole }, { additionalProperties: false }),
        response: {
          200: Type.Object({ id: Uuid, role: AssignableRole }, { description: "The new role" }),
          ...errors({ 400: "VALIDATION_FAILED", 404: "NOT_FOUND", 409: "MEMBER_CHANGE_REFUSED" }),
        },
      },
    },
    async (request) => {
      const userId = idOf(request.params, noMember);
      const { role } = request.body;
      await changeMemberRole(ctx, callerOrganizationId(request), userId, role, actorOf(request));
      return { id: userId, role };
    },
  );

  api.delete(
    "/users/:id",
    {
      preValidation,
      schema: {
        operationId: "removeUser",
        summary: "Remove a person from the organization; their sessions end",
        tags: ["Users"],
        params: IdParams,
        headers: CsrfHeaders,
        response: { 204: NoContent, ...errors({ 404: "NOT_FOUND", 409: "MEMBER_CHANGE_REFUSED" }) },
      },
    },
    async (request, reply) => {
      await removeMember(
        ctx,
        callerOrganizationId(request),
        idOf(request.params, noMember),
        actorOf(request),
      );
      return reply.status(204).send(null);
    },
  );

  const SessionsEnded = Type.Object(
    { sessionsEnded: Type.Integer({ minimum: 0 }) },
    { description: "How many sessions ended" },
  );

  api.post(
    "/users/:id/sessions/revoke",
    {
      preValidation,
      schema: {
        operationId: "revokeUserSessions",
        summary: "Sign a member out everywhere",
        description:
          "Ends every session the member opened in this organization; the applications signed in through them are told (Back-Channel Logout). An admin signing themselves out keeps the session that asks. Audited as sessions.revoked_for_user.",
        tags: ["Users"],
        params: IdParams,
        headers: CsrfHeaders,
        response: { 200: SessionsEnded, ...errors({ 404: "NOT_FOUND" }) },
      },
    },
    async (request) => ({
      sessionsEnded: await signOutMember(ctx, signOutActorOf(request), idOf(request.params, noMember)),
    }),
  );

  api.post(
    "/sessions/revoke",
    {
      preValidation,
      schema: {
        operationId: "revokeOrganizationSessions",
        summary: "Sign everyone in the organization out",
        description:
          "Ends every session opened in this organization, whatever the sign-in method, except the admin session that asks. Audited as sessions.revoked_for_organization.",
        tags: ["Users"],
        headers: CsrfHeaders,
        response: { 200: SessionsEnded, ...errors({}) },
      },
    },
    async (request) => ({ sessionsEnded: await signOutOrganization(ctx, signOutActorOf(request)) }),
  );

  const tags = ["Invitations"];

  api.get(
    "/invitations",
    {
      preValidation,
      schema: {
        operationId: "listInvitations",
        summary: "Invitations neither accepted nor revoked, newest first (expired ones included)",
        tags,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(InvitationView, "The invitations"), ...errors({ 400: "VALIDATION_FAILED" }) },
      },
    },
    async (request) => {
      const page = readPage<[number, string]>(request.query, ["number", "string"]);
      const open = await listOpenInvitations(ctx.store.db, callerOrganizationId(request));
      // Open invitations are few (each address has at most one); the page is cut in memory.
      const after = page.after;
      const rest = after
        ? open.filter((i) => i.createdAt < after[0] || (i.createdAt === after[0] && i.id > after[1]))
        : open;
      const now = ctx.now();
      return toPage(
        rest.slice(0, page.limit + 1),
        page.limit,
        (i) => [i.createdAt, i.id],
        (i) => toInvitationView(i, now),
      );
    },
  );

  api.post(
    "/invitations",
    {
      preValidation,
      config: { idempotent: true },
      schema: {
        operationId: "createInvitation",
        summary: "Invite a person; the one-time setup link (valid 72 hours) is in this answer only",
        tags,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            email: Type.String({ maxLength: 320, errorMessage: "Required: the person's email address." }),
            role: AssignableRole,
          },
          { additionalProperties: false },
        ),
        response: {
          201: CreatedInvitation,
          ...errors({
            400: "VALIDATION_FAILED",
            409: "CONFLICT (the address already has an account) or IDEMPOTENCY_KEY_IN_USE",
            422: "IDEMPOTENCY_KEY_REUSED",
          }),
        },
      },
    },
    async (request, reply) => {
      const { invitation, link } = await createInvitation(ctx, {
        organizationId: callerOrganizationId(request),
        email: request.body.email,
        role: request.body.role,
        invitedByUserId: actorOf(request).userId,
      });
      return reply.status(201).send({ ...toInvitationView(invitation, ctx.now()), setupLink: link });
    },
  );

  api.post(
    "/invitations/:id/resend",
    {
      preValidation,
      schema: {
        operationId: "resendInvitation",
        summary: "A new setup link for the same address and role; the previous link stops working",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        response: {
          201: CreatedInvitation,
          ...errors({ 404: "NOT_FOUND: no such open invitation", 409: "CONFLICT" }),
        },
      },
    },
    async (request, reply) => {
      const organizationId = callerOrganizationId(request);
      const existing = await findInvitation(ctx.store.db, organizationId, idOf(request.params, noInvitation));
      if (!existing || existing.acceptedAt !== null || existing.revokedAt !== null) throw noInvitation();
      const { invitation, link } = await resendInvitation(
        ctx,
        organizationId,
        existing,
        actorOf(request).userId,
      );
      return reply.status(201).send({ ...toInvitationView(invitation, ctx.now()), setupLink: link });
    },
  );

  api.delete(
    "/invitations/:id",
    {
      preValidation,
      schema: {
        operationId: "revokeInvitation",
        summary: "Withdraw an invitation: its link stops working",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        response: { 204: NoContent, ...errors({ 404: "NOT_FOUND: no such open invitation" }) },
      },
    },
    async (request, reply) => {
      await revokeInvitation(
        ctx,
        callerOrganizationId(request),
        idOf(request.params, noInvitation),
        actorOf(request).userId,
      );
      return reply.status(204).send(null);
    },
  );
}
