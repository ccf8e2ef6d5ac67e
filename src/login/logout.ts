import type { FastifyReply, FastifyRequest } from "fastify";
import { randomToken, safeEqual } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import { cookieOptions, hostCookieName } from "../session/cookie.js";
import { endSession } from "../session/revoke.js";
import { insertAuditEvent } from "../store/audit.js";
import { findConnectionById } from "../store/connections.js";

/** Holds the `state` of an RP-initiated logout until the browser comes back from the IdP. */
export const LOGOUT_COOKIE = "gh_logout";
const LOGOUT_RETURN_SECONDS = 10 * 60;

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
  if (!ended.connectionId || !ended.idpSession) return "/";
  const connection = await findConnectionById(ctx.store.db, ended.connectionId);
  if (!connection) return "/";
  const adapter = ctx.signIn.forConnection(ctx, connection);
  if (!adapter.endSession) return "/";
  const state = randomToken(16);
  let url: string | undefined;
  try {
    url = await adapter.endSession({ connection, saved: true }, ended.idpSession, {
      state,
      postLogoutUrl: ctx.config.baseUrl.toString(),
    });
  } catch (error) {
    // The local session is already gone; an IdP that cannot be reached must not keep the user signed in here.
    request.log.warn(
      { err: error, connectionId: connection.id },
      "RP-initiated logout skipped: IdP metadata unavailable",
    );
    return "/";
  }
  if (!url) return "/";
  reply.setCookie(hostCookieName(ctx.config, LOGOUT_COOKIE), `${state}.${connection.id}.${ended.userId}`, {
    ...cookieOptions(ctx.config, LOGOUT_RETURN_SECONDS),
    signed: true,
  });
  return url;
}

/**
 * The browser is back from the IdP's logout (or came home while one was pending): the `state`
 * must be the one this browser sent. The person is signed out either way, so a wrong or missing
 * `state` only ends up in the log and the audit trail; it never keeps anyone at the IdP.
 */
export async function finishLogoutReturn(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  returnedState: string | undefined,
): Promise<void> {
  const name = hostCookieName(ctx.config, LOGOUT_COOKIE);
  const raw = request.cookies[name];
  if (raw !== undefined) reply.clearCookie(name, cookieOptions(ctx.config));
  const unsigned = raw && raw.length < 400 ? request.unsignCookie(raw) : undefined;
  const [expected, connectionId, userId] = unsigned?.valid && unsigned.value ? unsigned.value.split(".") : [];
  if (!expected || !connectionId) {
    // A `state` with no logout pending in this browser: nothing to attribute it to.
    request.log.info("logout return with a state this browser did not send");
    return;
  }
  const outcome =
    returnedState === undefined
      ? "SSO_LOGOUT_STATE_MISSING"
      : safeEqual(returnedState, expected)
        ? undefined
        : "SSO_LOGOUT_STATE_MISMATCH";
  const connection = await findConnectionById(ctx.store.db, connectionId);
  if (outcome) request.log.info({ code: outcome, connectionId }, "logout return refused its state");
  await insertAuditEvent(
    ctx.store.db,
    {
      type: "sign_out.returned",
      organizationId: connection?.organizationId ?? null,
      userId: userId ?? null,
      connectionId: connection?.id ?? null,
      outcome: outcome ? "failure" : "success",
      reasonCode: outcome ?? null,
      detail: outcome
        ? {
            check:
              outcome === "SSO_LOGOUT_STATE_MISSING"
                ? "the identity provider sent the browser back without the logout state"
                : "the logout state the identity provider sent back is not the one this browser sent",
          }
        : undefined,
      ip: request.ip,
    },
    ctx.now(),
  );
}
