import type { FastifyInstance, FastifyRequest } from "fastify";
import { createInvitation, resendInvitation, revokeInvitation } from "../accounts/invitations.js";
import { createOrganizationWithAdmin } from "../accounts/organizations.js";
import { changeMemberRole, type PeopleActor, removeMember } from "../accounts/people.js";
import { urlFor } from "../config.js";
import { invitationState, isAssignableRole } from "../domain/people.js";
import { GatehouseError, validationError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { findInvitation, type Invitation, listOpenInvitations } from "../store/invitations.js";
import { findOrganizationById, listOrganizations, type Organization } from "../store/organizations.js";
import { apiAuthentication, apiCaller, callerOrganizationId } from "./auth.js";
import { isUuid } from "./input.js";

const iso = (ms: number) => new Date(ms).toISOString();

export function toInvitationView(invitation: Invitation, now: number) {
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

/** A JSON object body with only the named properties, every one a string. */
function stringBody(
  body: unknown,
  allowed: readonly string[],
  required: readonly string[],
): Record<string, string> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw validationError({ body: "a JSON object" }, "The request body must be a JSON object.");
  }
  const fields: Record<string, string> = {};
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!allowed.includes(key)) fields[key] = `Unknown property. Allowed: ${allowed.join(", ")}.`;
    else if (typeof value !== "string") fields[key] = "Must be a string.";
    else values[key] = value;
  }
  for (const key of required) if (!(key in body)) fields[key] = "Required.";
  if (Object.keys(fields).length > 0) throw validationError(fields);
  return values;
}

function idParam(params: unknown, notFound: () => GatehouseError): string {
  const id = (params as { id?: unknown }).id;
  if (!isUuid(id)) throw notFound();
  return id.toLowerCase();
}

function actorOf(request: FastifyRequest): PeopleActor {
  const caller = apiCaller(request);
  return caller.kind === "session"
    ? { userId: caller.session.userId, role: caller.session.role }
    : { userId: null, role: null };
}

const noMember = () => new GatehouseError("NOT_FOUND", "No such member of this organization.");
const noInvitation = () => new GatehouseError("NOT_FOUND", "No such open invitation.");

const ORGANIZATIONS_DEFAULT_LIMIT = 50;
const ORGANIZATIONS_MAX_LIMIT = 200;

function pageQuery(query: unknown): { limit: number; after: string | undefined } {
  const q = (typeof query === "object" && query !== null ? query : {}) as Record<string, unknown>;
  const fields: Record<string, string> = {};
  let limit = ORGANIZATIONS_DEFAULT_LIMIT;
  for (const key of Object.keys(q))
    if (key !== "limit" && key !== "after") fields[key] = "Unknown parameter. Allowed: limit, after.";
  if (q.limit !== undefined) {
    const n = typeof q.limit === "string" && /^\d{1,3}$/.test(q.limit) ? Number(q.limit) : 0;
    if (n >= 1 && n <= ORGANIZATIONS_MAX_LIMIT) limit = n;
    else fields.limit = `Must be a whole number from 1 to ${ORGANIZATIONS_MAX_LIMIT}.`;
  }
  if (q.after !== undefined && (typeof q.after !== "string" || q.after.length > 63))
    fields.after = "Must be the `next` value of the previous page.";
  if (Object.keys(fields).length > 0) throw validationError(fields);
  return { limit, after: q.after as string | undefined };
}

/** `/api/v1/organizations`: the operator onboards customers without a shell. */
export function registerOrganizationRoutes(api: FastifyInstance, ctx: AppContext): void {
  const operator = { preHandler: apiAuthentication(api, ctx, "operator") };

  api.get("/organizations", operator, async (request) => {
    const { limit, after } = pageQuery(request.query);
    const page = await listOrganizations(ctx.store.db, { limit: limit + 1, after });
    const shown = page.slice(0, limit);
    return {
      data: shown.map(toOrganizationView),
      next: page.length > limit ? (shown.at(-1)?.slug ?? null) : null,
    };
  });

  api.post("/organizations", operator, async (request, reply) => {
    const body = stringBody(
      request.body,
      ["slug", "name", "adminEmail", "adminName"],
      ["slug", "name", "adminEmail"],
    );
    const created = await createOrganizationWithAdmin(ctx, {
      slug: body.slug ?? "",
      name: body.name ?? "",
      adminEmail: body.adminEmail ?? "",
      adminName: body.adminName,
    });
    if (created.setupLink === undefined)
      throw new GatehouseError("INTERNAL", "organization created without an invitation");
    return reply
      .status(201)
      .header("location", urlFor(ctx.config, `api/v1/organizations/${created.organization.id}`))
      .send({
        ...toOrganizationView(created.organization),
        invitation: { ...toInvitationView(created.invitation, ctx.now()), setupLink: created.setupLink },
      });
  });

  api.get("/organizations/:id", operator, async (request) => {
    const notFound = () => new GatehouseError("NOT_FOUND", "No such organization.");
    const organization = await findOrganizationById(ctx.store.db, idParam(request.params, notFound));
    if (!organization) throw notFound();
    return toOrganizationView(organization);
  });
}

/** Members and invitations of the caller's organization: `/api/v1/users/{id}` and `/api/v1/invitations`. */
export function registerPeopleRoutes(api: FastifyInstance, ctx: AppContext): void {
  const admin = { preHandler: apiAuthentication(api, ctx, "admin") };

  api.patch("/users/:id", admin, async (request) => {
    const userId = idParam(request.params, noMember);
    const body = stringBody(request.body, ["role"], ["role"]);
    if (!isAssignableRole(body.role)) throw validationError({ role: 'Must be "admin" or "member".' });
    const organizationId = callerOrganizationId(request);
    await changeMemberRole(ctx, organizationId, userId, body.role, actorOf(request));
    return { id: userId, role: body.role };
  });

  api.delete("/users/:id", admin, async (request, reply) => {
    const userId = idParam(request.params, noMember);
    await removeMember(ctx, callerOrganizationId(request), userId, actorOf(request));
    return reply.status(204).send();
  });

  api.get("/invitations", admin, async (request) => {
    const invitations = await listOpenInvitations(ctx.store.db, callerOrganizationId(request));
    const now = ctx.now();
    return { data: invitations.map((i) => toInvitationView(i, now)) };
  });

  api.post("/invitations", admin, async (request, reply) => {
    const body = stringBody(request.body, ["email", "role"], ["email", "role"]);
    if (!isAssignableRole(body.role)) throw validationError({ role: 'Must be "admin" or "member".' });
    const { invitation, link } = await createInvitation(ctx, {
      organizationId: callerOrganizationId(request),
      email: body.email ?? "",
      role: body.role,
      invitedByUserId: actorOf(request).userId,
    });
    return reply.status(201).send({ ...toInvitationView(invitation, ctx.now()), setupLink: link });
  });

  api.post("/invitations/:id/resend", admin, async (request, reply) => {
    const organizationId = callerOrganizationId(request);
    const existing = await findInvitation(
      ctx.store.db,
      organizationId,
      idParam(request.params, noInvitation),
    );
    if (!existing || existing.acceptedAt !== null || existing.revokedAt !== null) throw noInvitation();
    const { invitation, link } = await resendInvitation(
      ctx,
      organizationId,
      existing,
      actorOf(request).userId,
    );
    return reply.status(201).send({ ...toInvitationView(invitation, ctx.now()), setupLink: link });
  });

  api.delete("/invitations/:id", admin, async (request, reply) => {
    await revokeInvitation(
      ctx,
      callerOrganizationId(request),
      idParam(request.params, noInvitation),
      actorOf(request).userId,
    );
    return reply.status(204).send();
  });
}
