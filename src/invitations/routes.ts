import type { FastifyInstance, FastifyReply } from "fastify";
import {
  acceptInvitationWithPassword,
  INVITATION_PATH,
  invitationRefusal,
  type OpenedInvitation,
  openInvitation,
} from "../accounts/invitations.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { createSession } from "../session/create.js";
import { textField } from "../web/form.js";
import { acceptInvitationPage } from "./pages.js";

const HTML = "text/html; charset=utf-8";

/** The setup link's page, or the error that says why the link no longer works. */
async function openValid(ctx: AppContext, token: string): Promise<OpenedInvitation> {
  const opened = token ? await openInvitation(ctx, token) : undefined;
  if (!opened) throw new GatehouseError("INVITATION_NOT_FOUND", "This setup link is not valid.");
  const refusal = invitationRefusal(opened.state);
  if (refusal) throw refusal;
  return opened;
}

function noStore(reply: FastifyReply): FastifyReply {
  // The page carries the link's token in a form: no cache may keep it.
  return reply.type(HTML).header("cache-control", "no-store");
}

/** `GET|POST /invitation?token=…`: a one-time setup link, opened and accepted. */
export function registerInvitationRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(INVITATION_PATH, async (request, reply) => {
    noStore(reply);
    const token = textField(request.query, "token", 200);
    const opened = await openValid(ctx, token);
    return reply.send(acceptInvitationPage({ opened, token, csrfToken: reply.generateCsrf() }));
  });

  app.post(INVITATION_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    noStore(reply);
    const token = textField(request.body, "token", 200);
    const name = textField(request.body, "name", 200);
    const password = textField(request.body, "password", 1024);
    try {
      const accepted = await acceptInvitationWithPassword(ctx, token, { password, name, ip: request.ip });
      await createSession(ctx, request, reply, {
        userId: accepted.userId,
        organizationId: accepted.organizationId,
        method: "password",
      });
      return reply.redirect("/", 303);
    } catch (error) {
      if (!isGatehouseError(error) || error.code !== "VALIDATION_FAILED") throw error;
      const opened = await openValid(ctx, token);
      return reply.status(error.status).send(
        acceptInvitationPage({
          opened,
          token,
          csrfToken: reply.generateCsrf(),
          name,
          errors: error.fields,
        }),
      );
    }
  });
}
