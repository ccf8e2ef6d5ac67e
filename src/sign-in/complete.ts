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
import type { Connection } from "../store/connections.js";
import { findOrganizationById } from "../store/organizations.js";
import type { Assertion, SignInAdapter, SignInResponse, SignInTarget } from "./adapter.js";
import { Attempt } from "./checks.js";
import { consumeSignIn, type FoundSoFar, type OpenedSignIn } from "./consume.js";
import { checkEmailDomain } from "./policy.js";
import { provisionSocialUser, provisionSsoUser, type VerifiedIdentity } from "./provision.js";
import { finishTestSignIn } from "./test-sign-in.js";

/** `returnTo` after a test sign-in is its result page, whatever the checks found. */
export type SignInResult =
  | { ok: true; returnTo: string }
  | {
      ok: false;
      error: GatehouseError;
      traceId: string;
      /** The refusal is in its organization's sign-in activity: the connection was known. */
      listed: boolean;
      /** The address the provider signed the person in as, when that is what was refused. */
      refusedEmail?: string;
      /**
       * How to start again with another account at the IdP, the way this sign-in began: with the
       * address the person typed, or with the connection (an organization's sign-in URL, an
       * application's `organization=`).
       */
      switchAccount?: SwitchAccount;
      /** Where the sign-in was to land: the next attempt lands there too (an application's request). */
      returnTo?: string;
    }
  | { ok: false; ssoRequired: { email: string; organizationName: string; returnTo: string } };

export type SwitchAccount = { email: string } | { organization: string; connection: string };

/** The IdP's answer, framework-free, as adapters read it. */
export function signInResponseOf(ctx: AppContext, request: FastifyRequest): SignInResponse {
  const body =
    request.method === "POST" && request.body && typeof request.body === "object" ? request.body : {};
  const form = Object.fromEntries(
    Object.entries(body).flatMap(([k, v]) => (typeof v === "string" ? [[k, v] as const] : [])),
  );
  return {
    url: new URL(request.url, ctx.config.baseUrl),
    method: request.method === "POST" ? "POST" : "GET",
    form,
  };
}

export interface CompleteOptions {
  /**
   * The connection whose own endpoint received the answer (SAML's per-connection ACS URL): a
   * handle must belong to it, and an answer without one is offered to the adapter's
   * `acceptsUnsolicited` (and lands where its `unsolicitedReturnTo` says, if a same-origin path).
   */
  connectionId?: string | undefined;
}

/**
 * Finishes a sign-in with any protocol, the steps in order:
 *  1. consume the transaction the answer's handle names (consume.ts);
 *  2. the connection still exists and is enabled;
 *  3. `adapter.complete`: every protocol check, then a neutral assertion;
 *  4. policy: the connection may assert this address's domain (policy.ts); a social sign-in is
 *     refused where the account's organization requires SSO;
 *  5. the role from the connection's rules and the asserted groups;
 *  6. provision, audit and session in one database transaction, then the cookie.
 * A test sign-in runs 1 to 5 and reports instead (test-sign-in.ts). Every refusal is audited
 * with the failed check and a trace id the person can hand to their admin.
 */
export async function completeSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  adapter: SignInAdapter,
  options: CompleteOptions = {},
): Promise<SignInResult> {
  const found: FoundSoFar = {};
  const attempt = new Attempt(false);
  try {
    const response = signInResponseOf(ctx, request);
    const opened = await consumeSignIn(ctx, request, adapter, response, found, options.connectionId);
    if (opened.transaction.purpose === "test") {
      return await finishTestSignIn(ctx, request, adapter, response, opened, found, options.connectionId);
    }
    const target = signInTarget(adapter, opened);
    const assertion = await adapter.complete(target, response, opened.transaction, attempt);
    attempt.identify({ subject: assertion.subject, email: assertion.email });
    const connection = target.connection;
    if (connection) checkEmailDomain(connection, assertion.email, ctx.now(), attempt);
    else {
      const refusal = await refuseSocialWhereSsoRequired(ctx, request, adapter, assertion);
      if (refusal) return { ok: false, ssoRequired: { ...refusal, returnTo: opened.transaction.returnTo } };
    }
    await signIn(ctx, request, reply, adapter, connection, assertion, {
      loginHint: found.loginHint,
      reauthenticated: opened.transaction.reauthenticate,
    });
    return { ok: true, returnTo: opened.transaction.returnTo };
  } catch (error) {
    return refuse(ctx, request, adapter, error, found, attempt);
  }
}

/** What sign-ins of this adapter are audited as. */
function auditTypeOf(adapter: SignInAdapter): "sign_in.sso" | "sign_in.linkedin" {
  return adapter.method === "sso" ? "sign_in.sso" : "sign_in.linkedin";
}

/** Step 2: the connection still exists and is enabled (a deployment-wide provider has none). */
export function signInTarget(adapter: SignInAdapter, opened: OpenedSignIn): SignInTarget {
  if (opened.transaction.connectionId === null && adapter.method !== "sso") {
    return { connection: undefined, saved: true };
  }
  const connection = opened.connection;
  if (!connection) {
    throw new GatehouseError("CONNECTION_NOT_FOUND", "The connection was deleted.", {
      detail: "connection deleted during sign-in",
      check: { check: "state", expected: "the connection the sign-in began with", received: "deleted" },
    });
  }
  if (connection.status !== "enabled") {
    throw new GatehouseError("CONNECTION_DISABLED", "The connection is disabled.", {
      detail: "connection disabled during sign-in",
      check: { check: "state", expected: "an enabled connection", received: "disabled" },
    });
  }
  return { connection, saved: true };
}

/** The identity provisioning takes, with the role the connection's rules give. */
export function identityOf(connection: Connection | undefined, assertion: Assertion): VerifiedIdentity {
  return {
    providerKey: assertion.providerKey,
    connectionId: connection?.id ?? null,
    subject: assertion.subject,
    email: assertion.email,
    emailVerified: assertion.emailVerified,
    name: assertion.name,
    givenName: assertion.givenName,
    familyName: assertion.familyName,
    ...(connection ? { roles: decideRole(connection.roles, assertion.claims) } : {}),
  };
}

/**
 * Social sign-in is refused for accounts (and asserted addresses) whose organization requires
 * SSO; the refusal is audited and the person is told where to sign in instead.
 */
async function refuseSocialWhereSsoRequired(
  ctx: AppContext,
  request: FastifyRequest,
  adapter: SignInAdapter,
  assertion: Assertion,
): Promise<{ email: string; organizationName: string } | undefined> {
  const enforcement = await checkSocialEnforcement(
    ctx,
    assertion.providerKey,
    assertion.subject,
    assertion.email,
  );
  if (enforcement.allowed) return undefined;
  await insertAuditEvent(
    ctx.store.db,
    {
      type: auditTypeOf(adapter),
      outcome: "failure",
      organizationId: enforcement.organizationId ?? null,
      connectionId: enforcement.connectionId ?? null,
      email: assertion.email,
      subject: assertion.subject,
      reasonCode: "AUTH_SSO_REQUIRED",
      detail: {
        check: "sso_enforcement",
        connection: enforcement.connectionName,
        ...(enforcement.enforcedEmail !== assertion.email ? { account: enforcement.enforcedEmail } : {}),
      },
      ip: request.ip,
    },
    ctx.now(),
  );
  ctx.metrics.signIns.inc({ method: adapter.method, outcome: "failure" });
  return {
    email: enforcement.enforcedEmail ?? assertion.email,
    organizationName: enforcement.organizationName,
  };
}

/** Step 6: the user, the audit record and the session land together, or not at all. */
async function signIn(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  adapter: SignInAdapter,
  connection: Connection | undefined,
  assertion: Assertion,
  begun: { loginHint: string | undefined; reauthenticated: boolean },
): Promise<void> {
  const identity = identityOf(connection, assertion);
  const now = ctx.now();
  const run = () =>
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
            email: assertion.email,
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
            type: auditTypeOf(adapter),
            outcome: "success",
            organizationId: provisioned.organizationId,
            userId: provisioned.userId,
            connectionId: connection?.id ?? null,
            email: assertion.email,
            subject: assertion.subject,
            detail: {
              provisioned: provisioned.created,
              ...typedEmailDetail(begun.loginHint, assertion.email),
            },
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
          method: adapter.method,
          connectionId: connection?.id ?? null,
          idpSession: assertion.idpSession,
          authenticatedAfresh: begun.reauthenticated,
        },
        trx,
      );
    });
  let token: string;
  try {
    token = await run();
  } catch (error) {
    // Two first sign-ins of one new user at once (two tabs, a double click): the loser's
    // insert hits the unique email or identity; run again, it finds the user the winner made.
    if (!isUniqueViolation(error)) throw error;
    token = await run();
  }
  // Only now that the session is stored does the browser get its cookie.
  setSessionCookie(ctx, reply, token);
  ctx.metrics.signIns.inc({ method: adapter.method, outcome: "success" });
}

/** Any failure as a GatehouseError: database outages answer 503, anything unexpected 500. */
export function asSignInFailure(error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  if (isDatabaseUnavailable(error)) {
    return new GatehouseError("SERVICE_UNAVAILABLE", "The database is not reachable right now.", {
      cause: error,
      detail: "database unavailable during sign-in",
    });
  }
  return new GatehouseError("INTERNAL", "Sign-in failed unexpectedly.", {
    cause: error,
    detail: "unexpected error",
  });
}

/** Logs and audits a refusal, with the failed check as data and a trace id for the person. */
async function refuse(
  ctx: AppContext,
  request: FastifyRequest,
  adapter: SignInAdapter,
  error: unknown,
  found: FoundSoFar,
  attempt: Attempt,
): Promise<SignInResult> {
  const { connection } = found;
  const failure = asSignInFailure(error);
  const auditType = auditTypeOf(adapter);
  const traceId = newTraceId();
  if (failure.code === "INTERNAL")
    noteOnRequestLine(request, { code: failure.code, err: error, traceId }, "error");
  else noteOnRequestLine(request, { code: failure.code, detail: failure.detail, traceId });
  ctx.metrics.signIns.inc({ method: adapter.method, outcome: "failure" });
  // Refusals before any connection is known (rate limited, unknown or missing state) are
  // anyone's to send: a flood of them leaves one row per address, kind and window.
  const record =
    (failure.code !== "AUTH_RATE_LIMITED" && connection !== undefined) ||
    (await shouldRecordRefusal(ctx, request.ip, `${auditType}:${failure.code}`).catch(() => true));
  // The next attempt lands where this one was to: an application's request stays open.
  const kept = found.returnTo !== undefined ? { returnTo: found.returnTo } : {};
  if (!record) return { ok: false, error: failure, traceId, listed: false, ...kept };
  await insertAuditEvent(
    ctx.store.db,
    {
      type: auditType,
      outcome: "failure",
      organizationId: connection?.organizationId ?? null,
      connectionId: connection?.id ?? null,
      email: attempt.email ?? null,
      subject: attempt.subject ?? null,
      reasonCode: failure.code,
      detail: {
        ...failedCheckDetail(failure),
        ...typedEmailDetail(found.loginHint, attempt.email),
      },
      traceId,
      ip: request.ip,
    },
    ctx.now(),
  ).catch((auditError: unknown) =>
    request.log.error({ err: auditError }, "could not record a failed sign-in"),
  );
  return {
    ok: false,
    error: failure,
    traceId,
    listed: connection !== undefined,
    // The person just signed in at the provider as this address: theirs to see, so that they
    // can tell a wrong account (a personal one still signed in) from a wrong connection.
    ...(failure.code === "SSO_EMAIL_DOMAIN_NOT_ALLOWED" && attempt.email !== undefined
      ? { refusedEmail: attempt.email }
      : {}),
    ...(failure.code === "SSO_EMAIL_DOMAIN_NOT_ALLOWED" ? await switchAccountOf(ctx, found) : {}),
    ...kept,
  };
}

/** After the IdP signed in an account the connection refuses: the same start, for another account. */
async function switchAccountOf(
  ctx: AppContext,
  found: FoundSoFar,
): Promise<{ switchAccount?: SwitchAccount }> {
  if (found.loginHint !== undefined) return { switchAccount: { email: found.loginHint } };
  const { connection } = found;
  if (!connection) return {};
  const organization = await findOrganizationById(ctx.store.db, connection.organizationId).catch(
    () => undefined,
  );
  return organization
    ? { switchAccount: { organization: organization.slug, connection: connection.name } }
    : {};
}

/**
 * The address typed to start, for the audit, when the provider said nothing else or something
 * else: who the attempt is probably about (before the provider said who, or when it identified
 * the person only by `sub`), or who typed one address and came back as another. Never the
 * event's `email`, which is only ever what the provider asserted.
 */
export function typedEmailDetail(
  typed: string | undefined,
  asserted: string | undefined,
): { typedEmail?: string } {
  if (typed === undefined) return {};
  if (asserted !== undefined && asserted.toLowerCase() === typed.toLowerCase()) return {};
  return { typedEmail: typed };
}

/**
 * The audit detail of a refused sign-in: the failed check as data (its name, what was expected
 * and received) and the technical reason in words; never a secret.
 */
export function failedCheckDetail(failure: GatehouseError): Record<string, string> {
  return {
    check: failure.check?.check ?? uncheckedRefusal(failure),
    ...(failure.check?.expected !== undefined ? { expected: failure.check.expected } : {}),
    ...(failure.check?.received !== undefined ? { received: failure.check.received } : {}),
    detail: failure.detail ?? failure.message,
  };
}

/** Refusals that are no check of the answer: the pipeline's limits and failures. */
function uncheckedRefusal(failure: GatehouseError): string {
  if (failure.code === "AUTH_RATE_LIMITED") return "rate_limit";
  if (failure.code === "SERVICE_UNAVAILABLE") return "database";
  return failure.code === "INTERNAL" ? "unexpected" : "unknown";
}
