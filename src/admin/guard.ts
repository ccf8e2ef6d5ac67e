import type { FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { pathOnly } from "../server/log.js";
import { type ActiveSession, currentSession, isAdmin } from "../session/validate.js";

/** A session the guard let through: an owner or admin of an organization. */
export type AdminSession = ActiveSession & {
  organizationId: string;
  organizationName: string;
  organizationSlug: string;
};

const admins = new WeakMap<FastifyRequest, AdminSession>();

/**
 * The preHandler in front of every admin route. Signed-out visitors go to sign-in and come
 * back here; members and users without an organization are refused.
 */
export function requireAdmin(ctx: AppContext) {
  return async function adminGuard(request: FastifyRequest, reply: FastifyReply) {
    // Admin pages show configuration and carry CSRF tokens: no cache may keep them, not even
    // the refusals.
    reply.header("cache-control", "no-store");
    const session = await currentSession(ctx, request);
    if (!session) {
      const here = request.method === "GET" ? request.url : pathOnly(request.url);
      return reply.redirect(`/login?return_to=${encodeURIComponent(here)}`, 303);
    }
    const { organizationId, organizationName, organizationSlug } = session;
    if (!isAdmin(session) || !organizationId || !organizationName || !organizationSlug) {
      throw new GatehouseError("AUTH_FORBIDDEN", "Only owners and admins can open Administration.", {
        detail: `role ${session.role ?? "none"} asked for ${pathOnly(request.url)}`,
      });
    }
    admins.set(request, { ...session, organizationId, organizationName, organizationSlug });
  };
}

/** The admin session `requireAdmin` admitted for this request. */
export function adminSession(request: FastifyRequest): AdminSession {
  const session = admins.get(request);
  if (!session) throw new GatehouseError("INTERNAL", "admin route registered without requireAdmin");
  return session;
}
