import type { FastifyReply, FastifyRequest } from "fastify";
import { acceptInvitationOnSsoSignIn } from "../accounts/invitations.js";
import { shouldRecordRefusal } from "../audit/refusals.js";
import { newTraceId } from "../crypto/tokens.js";
import { decideRole } from "../domain/provider-roles.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import { checkSocialEnforcement } from "../login/enforcement.js";
import type { AppContext } from "../server/context.js";
import { noteOnRequestLine } from "../server/request-log.js";
import { issueSession, setSessionCookie } from "../session/create.js";
import { insertAuditEvent, insertAuditEvents } from "../store/audit.js";
import { isDatabaseUnavailable, isUniqueViolation } from "../store/availability.js";
import { type AttemptFacts, openTransaction, signInTarget, verifyResponse } from "./oidc/callback.js";
import { providerClaims, provisionSocialUser, provisionSsoUser } from "./provision.js";
import { finishTestSignIn } from "./test-sign-in.js";

/** `returnTo` after a test sign-in is its result page, whatever the checks found. */
export type SignInResult =
  | { ok: true; returnTo: string }
  | { ok: false; error: GatehouseError; traceId: string }
  | { ok: false; ssoRequired: { email: string; organizationName: string; returnTo: string } };

/**
 * Finishes a sign-in at the callback: verify (every check in oidc/callback.ts), provision the
 * user and record the outcome in one transaction, then start a fresh session. Every failure
 * is audited with the failed check and a trace id the person can hand to their admin.
 */
export async function finishSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  kind: "sso" | "linkedin",
): Promise<SignInResult> {
  const facts: AttemptFacts = {};
  const auditType = kind === "sso" ? "sign_in.sso" : "sign_in.linkedin";
  try {
    const opened = await openTransaction(ctx, request, kind, facts);
    // A test sign-in runs the same checks, then reports instead of signing anyone in.
    if (opened.tx.purpose === "test") return await finishTestSignIn(ctx, request, opened, facts);
    const verified = await verifyResponse(ctx, opened, signInTarget(ctx, kind, facts), facts);
    const connection = verified.target.connection;
    const identity = {
      providerKey: verified.target.providerKey,
      connectionId: connection?.id ?? null,
      subject: verified.subject,
      email: verified.email,
      emailVerified: verified.emailVerified,
      name: verified.name,
      givenName: verified.givenName,
      familyName: verified.familyName,
      ...(connection ? { roles: decideRole(connection.roles, providerClaims(verified)) } : {}),
    };

    if (!connection) {
      // Social sign-in is refused for accounts (and asserted addresses) whose organization
      // requires SSO.
      const enforcement = await checkSocialEnforcement(
        ctx,
        identity.providerKey,
        identity.subject,
        verified.email,
      );
      if (!enforcement.allowed) {
        await insertAuditEvent(
          ctx.store.db,
          {
            type: auditType,
            outcome: "failure",
            organizationId: enforcement.organizationId ?? null,
            connectionId: enforcement.connectionId ?? null,
            email: verified.email,
            subject: verified.subject,
            reasonCode: "AUTH_SSO_REQUIRED",
            detail: {
              check: "sso_enforcement",
              connection: enforcement.connectionName,
              ...(enforcement.enforcedEmail !== verified.email ? { account: enforcement.enforcedEmail } : {}),
            },
            ip: request.ip,
          },
          ctx.now(),
        );
        ctx.metrics.signIns.inc({ method: kind, outcome: "failure" });
        return {
          ok: false,
          ssoRequired: {
            email: enforcement.enforcedEmail ?? verified.email,
            organizationName: enforcement.organizationName,
            returnTo: verified.transaction.return_to,
          },
        };
      }
    }

    const now = ctx.now();
    // The user, the audit record and the session land together, or not at all.
    const signIn = () =>
      ctx.store.db.transaction().execute(async (trx) => {
        const provisioned = connection
          ? await provisionSsoUser(trx, identity, connection.organizationId, now)
          : await provisionSocialUser(trx, identity, now);
        // Only a new account can hold an invitation: one is never made for an address with an account.
        if (connection && provisioned.created && provisioned.organizationId) {
          await acceptInvitationOnSsoSignIn(
            trx,
            {
              organizationId: provisioned.organizationId,
              userId: provisioned.userId,
              email: verified.email,
              connectionId: connection.id,
            },
            now,
          );
        }
        // Provisioning's own events (a new user, a followed email) and the sign-in, in one insert.
        await insertAuditEvents(
          trx,
          [
            ...provisioned.audit,
            {
              type: auditType,
              outcome: "success",
              organizationId: provisioned.organizationId,
              userId: provisioned.userId,
              connectionId: connection?.id ?? null,
              email: verified.email,
              subject: verified.subject,
              detail: { provisioned: provisioned.created },
              ip: request.ip,
            },
          ],
          now,
        );
        return issueSession(
          ctx,
          request,
          {
            userId: provisioned.userId,
            organizationId: provisioned.organizationId,
            method: kind,
            connectionId: connection?.id ?? null,
            idToken: verified.idToken,
            idpSid: verified.idpSid,
          },
          trx,
        );
      });
    let token: string;
    try {
      token = await signIn();
    } catch (error) {
      // Two first sign-ins of one new user at once (two tabs, a double click): the loser's
      // insert hits the unique email or identity; run again, it finds the user the winner made.
      if (!isUniqueViolation(error)) throw error;
      token = await signIn();
    }
    // Only now that the session is stored does the browser get its cookie.
    setSessionCookie(ctx, reply, token);
    ctx.metrics.signIns.inc({ method: kind, outcome: "success" });
    return { ok: true, returnTo: verified.transaction.return_to };
  } catch (error) {
    const failure = isGatehouseError(error)
      ? error
      : isDatabaseUnavailable(error)
        ? new GatehouseError("SERVICE_UNAVAILABLE", "The database is not reachable right now.", {
            cause: error,
            detail: "database unavailable during sign-in",
          })
        : new GatehouseError("INTERNAL", "Sign-in failed unexpectedly.", {
            cause: error,
            detail: "unexpected error",
          });
    const traceId = newTraceId();
    if (failure.code === "INTERNAL")
      noteOnRequestLine(request, { code: failure.code, err: error, traceId }, "error");
    else noteOnRequestLine(request, { code: failure.code, detail: failure.detail, traceId });
    // Refusals before any connection is known (rate limited, unknown or missing state) are
    // anyone's to send: a flood of them leaves one row per address, kind and window.
    const record =
      (failure.code !== "AUTH_RATE_LIMITED" && facts.connection !== undefined) ||
      (await shouldRecordRefusal(ctx, request.ip, `${auditType}:${failure.code}`).catch(() => true));
    if (!record) {
      ctx.metrics.signIns.inc({ method: kind, outcome: "failure" });
      return { ok: false, error: failure, traceId };
    }
    await insertAuditEvent(
      ctx.store.db,
      {
        type: auditType,
        outcome: "failure",
        organizationId: facts.connection?.organizationId ?? null,
        connectionId: facts.connection?.id ?? null,
        email: facts.email ?? null,
        subject: facts.subject ?? null,
        reasonCode: failure.code,
        detail: { check: failure.detail ?? failure.message },
        traceId,
        ip: request.ip,
      },
      ctx.now(),
    ).catch((auditError: unknown) =>
      request.log.error({ err: auditError }, "could not record a failed sign-in"),
    );
    ctx.metrics.signIns.inc({ method: kind, outcome: "failure" });
    return { ok: false, error: failure, traceId };
  }
}
