import type { FastifyRequest } from "fastify";
import { testTarget } from "../connections/test.js";
import {
  decideRole,
  type GroupsReading,
  type RoleDecision,
  type RolePolicy,
} from "../domain/provider-roles.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { findConnectionTestById, finishConnectionTest } from "../store/connection-tests.js";
import { findIdentity } from "../store/identities.js";
import { findMembershipOfUser, findOrganizationById } from "../store/organizations.js";
import type { Role } from "../store/schema.js";
import { type AttemptFacts, type OpenedTransaction, verifyResponse } from "./oidc/callback.js";
import { type CheckEntry, CheckLog } from "./oidc/checks.js";
import { forgetConfiguration } from "./oidc/client.js";
import type { RelyingPartyTarget } from "./oidc/provider.js";
import { providerClaims, provisionSsoUser, type VerifiedIdentity } from "./provision.js";
import type { SignInResult } from "./sign-in.js";

const accountText = {
  new: "a new user would be created",
  linked: "the existing account with this email would be linked",
  returning: "the returning user would sign in",
} as const;

/** Thrown to roll back a rehearsal; never escapes `rehearseProvisioning`. */
class Rehearsal extends Error {}

/**
 * What a real sign-in would do with the account: the real provisioning, run in a transaction
 * that is always rolled back, so the role and account are exactly the ones a sign-in would
 * give (conflicts with another organization or another subject included) and nothing stays.
 */
async function rehearseProvisioning(
  ctx: AppContext,
  identity: VerifiedIdentity,
  organizationId: string,
): Promise<{ kind: "new" | "linked" | "returning"; role: Role }> {
  const returning = (await findIdentity(ctx.store.db, identity.providerKey, identity.subject)) !== undefined;
  let outcome: { kind: "new" | "linked" | "returning"; role: Role } | undefined;
  try {
    await ctx.store.db.transaction().execute(async (trx) => {
      const provisioned = await provisionSsoUser(trx, identity, organizationId, ctx.now());
      const membership = await findMembershipOfUser(trx, provisioned.userId);
      outcome = {
        kind: provisioned.created ? "new" : returning ? "returning" : "linked",
        role: membership?.role ?? "member",
      };
      throw new Rehearsal("rolled back");
    });
  } catch (error) {
    if (!(error instanceof Rehearsal)) throw error;
  }
  if (!outcome) throw new GatehouseError("INTERNAL", "provisioning rehearsal gave no outcome");
  return outcome;
}

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
  /** What the connection's role rules made of the groups. */
  roles?: RolesExplained;
}

export interface RolesExplained {
  groupsClaim: string;
  reading: GroupsReading["kind"];
  groups?: string[];
  /** `_claim_names` or `hasgroups`: how Entra ID said the groups were left out. */
  overageMarker?: string;
  rules: number;
  /** The rule that decided, as `group = role`. */
  matched: string | null;
  defaultRole: string;
}

function explainRoles(policy: RolePolicy, decision: RoleDecision): RolesExplained {
  const r = decision.reading;
  return {
    groupsClaim: policy.groupsClaim,
    reading: r.kind,
    ...(r.kind === "groups" ? { groups: r.groups } : {}),
    ...(r.kind === "overage" ? { overageMarker: r.marker } : {}),
    rules: policy.rules.length,
    matched: decision.matched ? `${decision.matched.group} = ${decision.matched.role}` : null,
    defaultRole: policy.defaultRole,
  };
}

/**
 * The end of a test sign-in: the callback's own checks (verifyResponse, as a real sign-in runs
 * them) against the test's settings, recorded one by one, then what provisioning would do,
 * rehearsed and rolled back. No user, identity, membership or session is written; the result
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
    const organization = await findOrganizationById(ctx.store.db, row.organization_id);
    const policy = target.connection?.roles;
    const roles = policy ? decideRole(policy, providerClaims(verified)) : undefined;
    if (policy && roles) result.roles = explainRoles(policy, roles);
    const account = await rehearseProvisioning(
      ctx,
      {
        providerKey: target.providerKey,
        connectionId: row.connection_id,
        subject: verified.subject,
        email: verified.email,
        name: verified.name,
        givenName: verified.givenName,
        familyName: verified.familyName,
        ...(roles ? { roles } : {}),
      },
      row.organization_id,
    );
    checks.pass("account", "an account this connection may sign in", accountText[account.kind]);
    result.signIn = {
      email: verified.email,
      name: verified.name,
      organizationName: organization?.name ?? "",
      role: account.role,
      account: account.kind,
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
