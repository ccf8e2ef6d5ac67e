import type { FastifyRequest } from "fastify";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { insertAuditEvent } from "../../store/audit.js";
import type { SamlConnection } from "../../store/connections.js";
import { findIdentity } from "../../store/identities.js";
import { revokeSessionsForConnectionUser } from "../../store/sessions.js";
import { limitSignInCallbacks } from "../rate-limit.js";
import { isSamlCheckError } from "./checks.js";
import { buildLogoutResponse, readLogoutMessage } from "./logout.js";
import { samlSettingsOf, serviceProviderOf } from "./stored-settings.js";

/**
 * What arrives at a connection's single logout URL (HTTP-Redirect):
 * - the IdP's LogoutResponse to the LogoutRequest Gatehouse sent at sign-out: the local session
 *   already ended then, so the browser goes home with the RelayState, which is the logout
 *   `state` the home page checks against this browser's cookie (src/login/logout.ts);
 * - a LogoutRequest, when the person signed out at the IdP or another application: every
 *   session this connection opened for the NameID's account ends, the applications signed in
 *   through them are told, and the browser goes back to the IdP with a signed LogoutResponse.
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
    ? await revokeSessionsForConnectionUser(ctx.store.db, connection.id, identity.userId, ctx.now())
    : 0;
  await audit(ctx, request, connection, {
    outcome: "success",
    userId: identity?.userId ?? null,
    subject: message.nameId,
    detail: { sessionsEnded },
  });
  const url = await buildLogoutResponse({
    settings,
    sp,
    inResponseTo: message.id,
    success: true,
    relayState: message.relayState,
  });
  return url ?? "/";
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
