import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createInvitation, resendInvitation, revokeInvitation } from "../../accounts/invitations.js";
import { changeMemberRole, removeMember } from "../../accounts/people.js";
import { withSignInNow } from "../../accounts/sign-in-now.js";
import { signOutMember, signOutOrganization } from "../../accounts/sign-out-everywhere.js";
import { isUuid } from "../../domain/ids.js";
import { isAssignableRole } from "../../domain/people.js";
import { GatehouseError, isGatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { findInvitation, listOpenInvitations } from "../../store/invitations.js";
import { listOrganizationUsers } from "../../store/users.js";
import { textField } from "../../web/form.js";
import { adminPaths, sendHtml } from "../components.js";
import { type AdminSession, adminSession, requireAdmin } from "../guard.js";
import { type PeoplePageModel, peoplePage } from "./page.js";

/** What a redirect back to the page confirms: fixed sentences, so a crafted link cannot put words there. */
const notices = {
  role: "Changed the role.",
  removed: "Removed the member. Their sessions have ended.",
  revoked: "Revoked the invitation. Its link no longer works.",
  "signed-out": "Signed the member out everywhere: their sessions in this organization have ended.",
  "signed-out-everyone": "Signed everyone out. Your own session stays.",
} as const;

function idParam(request: FastifyRequest, what: string): string {
  const id = (request.params as { id?: unknown }).id;
  if (!isUuid(id)) throw new GatehouseError("NOT_FOUND", `No such ${what}.`);
  return id.toLowerCase();
}

/** Administration > People: members, their roles, and invitations by one-time setup link. */
export function registerPeopleAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admin = requireAdmin(ctx);
  const write = { preHandler: [admin, app.csrfProtection] };

  const render = async (
    reply: FastifyReply,
    session: AdminSession,
    extra: Partial<PeoplePageModel> = {},
    status = 200,
  ) => {
    const [members, invitations] = await Promise.all([
      listOrganizationUsers(ctx.store.db, session.organizationId).then((users) =>
        withSignInNow(ctx, session.organizationId, users),
      ),
      listOpenInvitations(ctx.store.db, session.organizationId),
    ]);
    return sendHtml(
      reply,
      peoplePage({
        session,
        csrfToken: reply.generateCsrf(),
        now: ctx.now(),
        members,
        invitations,
        ...extra,
      }),
      status,
    );
  };
  const actor = (session: AdminSession) => ({ userId: session.userId, role: session.role });
  const signOutActor = (session: AdminSession, request: FastifyRequest) => ({
    organizationId: session.organizationId,
    userId: session.userId,
    sessionHash: session.idHash,
    ip: request.ip,
  });
  const back = (reply: FastifyReply, notice: keyof typeof notices) =>
    reply.redirect(`${adminPaths.people}?done=${notice}`, 303);

  app.get(adminPaths.people, { preHandler: admin }, async (request, reply) => {
    const done = textField(request.query, "done", 20);
    const notice = done in notices ? notices[done as keyof typeof notices] : undefined;
    return render(reply, adminSession(request), { notice });
  });

  app.post(adminPaths.invitations, write, async (request, reply) => {
    const session = adminSession(request);
    const email = textField(request.body, "email", 320);
    const role = textField(request.body, "role", 20);
    if (!isAssignableRole(role)) throw new GatehouseError("REQUEST_INVALID", "Choose Admin or Member.");
    try {
      const { invitation, link } = await createInvitation(ctx, {
        organizationId: session.organizationId,
        email,
        role,
        invitedByUserId: session.userId,
      });
      // Rendered in this answer rather than after a redirect: the link must never sit in a URL.
      return render(reply, session, { created: { email: invitation.email, link, resent: false } }, 201);
    } catch (error) {
      if (!isGatehouseError(error) || (error.code !== "VALIDATION_FAILED" && error.code !== "CONFLICT"))
        throw error;
      const inviteError =
        error.code === "CONFLICT" ? error.message : "Enter a valid email address, like name@company.com.";
      return render(reply, session, { inviteError, inviteEmail: email }, error.status);
    }
  });

  app.post(adminPaths.resendInvitation(":id"), write, async (request, reply) => {
    const session = adminSession(request);
    const existing = await findInvitation(
      ctx.store.db,
      session.organizationId,
      idParam(request, "invitation"),
    );
    if (!existing || existing.acceptedAt !== null || existing.revokedAt !== null) {
      throw new GatehouseError("NOT_FOUND", "No such open invitation.");
    }
    const { invitation, link } = await resendInvitation(
      ctx,
      session.organizationId,
      existing,
      session.userId,
    );
    return render(reply, session, { created: { email: invitation.email, link, resent: true } }, 201);
  });

  app.post(adminPaths.revokeInvitation(":id"), write, async (request, reply) => {
    const session = adminSession(request);
    await revokeInvitation(ctx, session.organizationId, idParam(request, "invitation"), session.userId);
    return back(reply, "revoked");
  });

  app.post(adminPaths.memberRole(":id"), write, async (request, reply) => {
    const session = adminSession(request);
    const role = textField(request.body, "role", 20);
    const userId = idParam(request, "member");
    // "owner" is offered on an owner's row so the select shows it; choosing it again changes nothing.
    if (role !== "owner") {
      if (!isAssignableRole(role)) throw new GatehouseError("REQUEST_INVALID", "Choose Admin or Member.");
      await changeMemberRole(ctx, session.organizationId, userId, role, actor(session));
    }
    return back(reply, "role");
  });

  app.post(adminPaths.signOutMember(":id"), write, async (request, reply) => {
    const session = adminSession(request);
    await signOutMember(ctx, signOutActor(session, request), idParam(request, "member"));
    return back(reply, "signed-out");
  });

  app.post(adminPaths.signOutEveryone, write, async (request, reply) => {
    await signOutOrganization(ctx, signOutActor(adminSession(request), request));
    return back(reply, "signed-out-everyone");
  });

  app.post(adminPaths.removeMember(":id"), write, async (request, reply) => {
    const session = adminSession(request);
    await removeMember(ctx, session.organizationId, idParam(request, "member"), actor(session));
    return back(reply, "removed");
  });
}
