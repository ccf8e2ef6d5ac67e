import type { FastifyRequest } from "fastify";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { openIdpSession } from "../../session/revoke.js";
import { limitSignInCallbacks } from "../../sign-in/rate-limit.js";
import { insertAuditEvent } from "../../store/audit.js";
import type { SamlConnection } from "../../store/connections.js";
import { findIdentity } from "../../store/identities.js";
import { listSessionsForConnectionUser, revokeSessionsForConnectionUser } from "../../store/sessions.js";
import { isSamlCheckError } from "./checks.js";
import { buildLogoutResponse, readLogoutMessage } from "./logout.js";
import { samlSettingsOf, serviceProviderOf } from "./stored-settings.js";

/**
 * What arrives at a connection's single logout URL (HTTP-Redirect):
 * - the IdP's LogoutResponse to the LogoutRequest Gatehouse sent at sign-out: the local session
 *   already ended then, so the browser goes home with the RelayState, which is the logout
 *   `state` the home page checks against this browser's cookie (src/login/logout.ts);
 * - a LogoutRequest, when the person signed out at the IdP or another application: the
 *   sessions it names by SessionIndex end, or, when it names none, every session this
 *   connection opened for the NameID's account; the applications signed in through them are
 *   told, and the browser goes back to the IdP with a signed LogoutResponse.
 * A message that fails a check is refused and audited, and ends nothing.
 */
export async function receiveSingleLogout(
  ctx: AppContext,
  request: FastifyRequest,
  connection: SamlConnection,
): Promise<string> {
  const settings = samlSettingsOf(connection.saml);
  const sp = serviceProviderOf(ctx.box, ctx.config.baseUrl.toString(), connection.id, connection.saml);
  const rawQuery = request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "";
  let message: ReturnType<typeof readLogoutMessage>;
  try {
    message = readLogoutMessage({ rawQuery, settings, sp, now: new Date(ctx.now()) });
  } catch (error) {
    if (!isSamlCheckError(error)) throw error;
    // Anyone can send these; past the per-address limit on flows they are refused unrecorded.
    await limitSignInCallbacks(ctx, request.ip);
    await audit(ctx, request, connection, {
      outcome: "failure",
      reasonCode: "SSO_SAML_RESPONSE_INVALID",
      detail: { check: error.check, message: error.detail },
    });
    throw new GatehouseError("SSO_SAML_RESPONSE_INVALID", "The single logout message was refused.", {
      detail: error.detail,
      check: { check: error.check, expected: error.expected, received: error.received },
      cause: error,
    });
  }
  if (message.kind === "LogoutResponse") {
    // A failed status changes nothing here: the local session ended before the request left.
    if (!message.success) {
      await audit(ctx, request, connection, {
        outcome: "failure",
        reasonCode: "SSO_IDP_ERROR",
        detail: { check: "status", received: message.status },
      });
    }
    const state = message.relayState;
    return state && /^[\w-]{1,200}$/.test(state) ? `/?state=${encodeURIComponent(state)}` : "/";
  }
  const identity = await findIdentity(ctx.store.db, `connection:${connection.id}`, message.nameId);
  const sessionsEnded = identity
    ? await endNamedSessions(ctx, connection, identity.userId, message.sessionIndexes)
    : 0;
  if (sessionsEnded > 0) await ctx.sessionCache.caughtUp();
  await audit(ctx, request, connection, {
    outcome: "success",
    userId: identity?.userId ?? null,
    subject: message.nameId,
    detail: {
      sessionsEnded,
      ...(message.sessionIndexes.length > 0 ? { sessionIndexes: message.sessionIndexes.length } : {}),
    },
  });
  // Success even when no session matched (SAML Core 3.7.3.2): the person is signed out here,
  // which is what the IdP asked; a session already ended is not an error to report.
  const url = await buildLogoutResponse({
    settings,
    sp,
    inResponseTo: message.id,
    success: true,
    relayState: message.relayState,
  });
  return url ?? "/";
}

/**
 * SAML Core 3.7.1: a LogoutRequest with SessionIndex elements ends only the sessions begun by
 * assertions with one of those indexes (the person may be signed in through the same IdP
 * session elsewhere, or through another one that stays); without any, every session this
 * connection opened for the NameID's account. Each session's index is sealed with it, so the
 * candidates are opened and matched here; one that does not open matches no index.
 */
async function endNamedSessions(
  ctx: AppContext,
  connection: SamlConnection,
  userId: string,
  sessionIndexes: readonly string[],
): Promise<number> {
  const now = ctx.now();
  if (sessionIndexes.length === 0) {
    return revokeSessionsForConnectionUser(ctx.store.db, connection.id, userId, now);
  }
  const named = new Set(sessionIndexes);
  const candidates = await listSessionsForConnectionUser(ctx.store.db, connection.id, userId, now);
  const idHashes = candidates
    .filter(({ idHash, idpSessionSealed }) => {
      if (idpSessionSealed === null) return false;
      const idpSession = openIdpSession(ctx, idHash, null, idpSessionSealed);
      return (
        idpSession?.protocol === "saml" &&
        idpSession.sessionIndex !== null &&
        named.has(idpSession.sessionIndex)
      );
    })
    .map(({ idHash }) => idHash);
  return revokeSessionsForConnectionUser(ctx.store.db, connection.id, userId, now, { idHashes });
}

async function audit(
  ctx: AppContext,
  request: FastifyRequest,
  connection: SamlConnection,
  facts: {
    outcome: "success" | "failure";
    reasonCode?: string;
    userId?: string | null;
    subject?: string;
    detail: Record<string, unknown>;
  },
): Promise<void> {
  await insertAuditEvent(
    ctx.store.db,
    {
      type: "sign_out.idp",
      organizationId: connection.organizationId,
      connectionId: connection.id,
      outcome: facts.outcome,
      reasonCode: facts.reasonCode ?? null,
      userId: facts.userId ?? null,
      subject: facts.subject ?? null,
      detail: facts.detail,
      ip: request.ip,
    },
    ctx.now(),
  );
}
