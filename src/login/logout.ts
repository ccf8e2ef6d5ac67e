import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../server/context.js";
import { endSession } from "../session/revoke.js";
import { endSessionUrl } from "../sso/oidc/logout.js";
import { insertAuditEvent } from "../store/audit.js";
import { findConnectionById } from "../store/connections.js";

/**
 * Ends the local session first, unconditionally; then, for a session that came from an IdP
 * publishing `end_session_endpoint`, returns the RP-initiated logout URL to send the browser to.
 */
export async function signOut(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<string> {
  const ended = await endSession(ctx, request, reply);
  if (!ended) return "/";
  await insertAuditEvent(
    ctx.store.db,
    {
      type: "sign_out",
      userId: ended.userId,
      connectionId: ended.connectionId,
      outcome: "success",
      ip: request.ip,
    },
    ctx.now(),
  );
  if (!ended.connectionId || !ended.idToken) return "/";
  const connection = await findConnectionById(ctx.store.db, ended.connectionId);
  if (!connection) return "/";
  try {
    return (await endSessionUrl(ctx, connection, ended.idToken)) ?? "/";
  } catch (error) {
    // The local session is already gone; an IdP that cannot be reached must not keep the user signed in here.
    request.log.warn(
      { err: error, connectionId: connection.id },
      "RP-initiated logout skipped: IdP metadata unavailable",
    );
    return "/";
  }
}
