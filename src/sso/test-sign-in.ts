import type { FastifyRequest } from "fastify";
import { testTarget } from "../connections/test.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { findConnectionTestById, finishConnectionTest } from "../store/connection-tests.js";
import { findMembershipOfUser, findOrganizationById } from "../store/organizations.js";
import type { Role } from "../store/schema.js";
import { type AttemptFacts, type OpenedTransaction, verifyResponse } from "./oidc/callback.js";
import { type CheckEntry, CheckLog } from "./oidc/checks.js";
import { forgetConfiguration } from "./oidc/client.js";
import type { RelyingPartyTarget } from "./oidc/provider.js";
import { planSsoProvisioning } from "./provision.js";
import type { SignInResult } from "./sign-in.js";

/** The role a first sign-in gives, until a connection maps roles from the provider's groups. */
export const NEW_USER_ROLE: Role = "member";

/** What the result page shows. Claims are values the provider asserted; no token is ever kept. */
export interface TestResult {
  outcome: "success" | "failure";
  connectionName: string;
  /** Whether the test ran with a saved connection's settings. */
  saved: boolean;
  /** A saved connection that is disabled signs no one in until it is enabled. */
  connectionDisabled?: boolean;
  checks: CheckEntry[];
  idTokenClaims?: Record<string, unknown>;
  /** Present when a real sign-in would call userinfo (the ID token lacked the email or the name). */
  userinfoClaims?: Record<string, unknown>;
  /** What a real sign-in with this answer would produce, had every check passed. */
  signIn?: {
    email: string;
    name: string | null;
    organizationName: string;
    role: string;
    account: "new" | "linked" | "returning";
  };
  failure?: { code: string; detail: string };
}

/**
 * The end of a test sign-in: the callback's own checks (verifyResponse, as a real sign-in runs
 * them) against the test's settings, recorded one by one, then what provisioning would do,
 * planned without writing. No user, identity, membership or session is written; the result
 * lands on the test, and the audit log gets `connection.tested` with the outcome.
 */
export async function finishTestSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  opened: OpenedTransaction,
  facts: AttemptFacts,
): Promise<SignInResult> {
  const testId = opened.tx.connection_test_id;
  const row = testId ? await findConnectionTestById(ctx.store.db, testId) : undefined;
  if (!row) {
    throw new GatehouseError("SSO_STATE_UNKNOWN", "This test sign-in is not known.", {
      detail: "no connection test for this login transaction",
    });
  }
  const checks = new CheckLog();
  const result: TestResult = {
    outcome: "failure",
    connectionName: "",
    saved: row.connection_id !== null,
    checks: checks.entries,
  };
  let target: RelyingPartyTarget | undefined;
  try {
    if (row.expires_at <= ctx.now()) {
      throw new GatehouseError("SSO_STATE_EXPIRED", "This test sign-in expired.", {
        detail: "the test is past its 10 minutes",
      });
    }
    const resolved = await testTarget(ctx, row);
    target = resolved.target;
    result.connectionName = resolved.connectionName;
    if (row.connection_id && target.connection?.status !== "enabled") result.connectionDisabled = true;
    facts.connection = row.connection_id ? target.connection : undefined;
    const verified = await verifyResponse(ctx, opened, target, facts, checks);
    result.idTokenClaims = { ...verified.claims };
    if (verified.userinfo) result.userinfoClaims = { ...verified.userinfo };
    const plan = await planSsoProvisioning(
      ctx.store.db,
      {
        providerKey: target.providerKey,
        connectionId: row.connection_id,
        subject: verified.subject,
        email: verified.email,
        name: verified.name,
      },
      row.organization_id,
    );
    const membership =
      plan.kind === "create" || plan.joins
        ? undefined
        : await findMembershipOfUser(ctx.store.db, plan.userId);
    const organization = await findOrganizationById(ctx.store.db, row.organization_id);
    const account = plan.kind === "create" ? "new" : plan.kind === "link" ? "linked" : "returning";
    checks.pass(
      "account",
      "an account this connection may sign in",
      {
        new: "a new user would be created",
        linked: "the existing account with this email would be linked",
        returning: "the returning user would sign in",
      }[account],
    );
    result.signIn = {
      email: verified.email,
      name: verified.name,
      organizationName: organization?.name ?? "",
      role: membership?.role ?? NEW_USER_ROLE,
      account,
    };
    result.outcome = "success";
  } catch (error) {
    const failure = isGatehouseError(error)
      ? error
      : new GatehouseError("INTERNAL", "The test failed unexpectedly.", {
          cause: error,
          detail: "unexpected error",
        });
    if (failure.code === "INTERNAL") request.log.error({ err: error }, "test sign-in failed unexpectedly");
    checks.fail(failure);
    result.failure = { code: failure.code, detail: failure.detail ?? failure.message };
  } finally {
    if (target && !row.connection_id) forgetConfiguration(target.version);
  }
  const now = ctx.now();
  await finishConnectionTest(
    ctx.store.db,
    row.id,
    { outcome: result.outcome, result: JSON.stringify(result) },
    now,
  );
  const failed = checks.entries.find((c) => !c.passed);
  await insertAuditEvent(
    ctx.store.db,
    {
      type: "connection.tested",
      organizationId: row.organization_id,
      actorUserId: row.actor_user_id,
      connectionId: row.connection_id,
      outcome: result.outcome,
      email: facts.email ?? null,
      subject: facts.subject ?? null,
      reasonCode: result.failure?.code ?? null,
      ip: request.ip,
      detail: {
        saved: result.saved,
        name: result.connectionName,
        ...(failed ? { failedCheck: failed.check, check: failed.detail } : {}),
      },
    },
    now,
  );
  return { ok: true, returnTo: opened.tx.return_to };
}
