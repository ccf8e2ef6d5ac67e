import type { FastifyRequest } from "fastify";
import { testConnection } from "../connections/test.js";
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
import type { ClaimSet, SignInAdapter, SignInResponse } from "./adapter.js";
import { Attempt, type CheckEntry, POLICY_CHECKS, TRANSACTION_CHECK } from "./checks.js";
import type { SignInResult } from "./complete.js";
import type { FoundSoFar, OpenedSignIn } from "./consume.js";
import { checkEmailDomain } from "./policy.js";
import { provisionSsoUser, type VerifiedIdentity } from "./provision.js";

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
  /** The checks a sign-in of this protocol runs, in order, with their labels. */
  checkList: { check: string; label: string }[];
  checks: CheckEntry[];
  /** What the provider sent, set by set (ID token and userinfo claims, SAML attributes). */
  rawClaims?: ClaimSet[];
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
 * The end of a test sign-in: the adapter's own checks (`complete`, as a real sign-in runs
 * them) against the test's settings and the pipeline's policy, recorded one by one, then what
 * provisioning would do, rehearsed and rolled back. No user, identity, membership or session
 * is written; the result lands on the test, and the audit log gets `connection.tested` with
 * the outcome.
 */
export async function finishTestSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  adapter: SignInAdapter,
  response: SignInResponse,
  opened: OpenedSignIn,
  found: FoundSoFar,
  /** The connection whose own endpoint received the answer (a per-connection ACS URL). */
  routeConnectionId?: string,
): Promise<SignInResult> {
  const testId = opened.transaction.connectionTestId;
  const row = testId ? await findConnectionTestById(ctx.store.db, testId) : undefined;
  if (!row) {
    throw new GatehouseError("SSO_STATE_UNKNOWN", "This test sign-in is not known.", {
      detail: "no connection test for this login transaction",
      check: { check: "state", expected: "a test begun here", received: "unknown" },
    });
  }
  const attempt = new Attempt(true);
  const checkList = [TRANSACTION_CHECK, ...adapter.checks, ...POLICY_CHECKS];
  const result: TestResult = {
    outcome: "failure",
    connectionName: "",
    saved: row.connection_id !== null,
    checkList: checkList.map((c) => ({ ...c })),
    checks: attempt.entries,
  };
  try {
    if (row.expires_at <= ctx.now()) {
      throw new GatehouseError("SSO_STATE_EXPIRED", "This test sign-in expired.", {
        detail: "the test is past its 10 minutes",
        check: { check: "state", expected: "within 10 minutes", received: "expired" },
      });
    }
    const tested = await testConnection(ctx, row);
    const connection = tested.connection;
    result.connectionName = tested.connectionName;
    if (row.connection_id && connection.status !== "enabled") result.connectionDisabled = true;
    found.connection = row.connection_id ? connection : undefined;
    // The answer came to the endpoint of the connection under test, and no other's: a test's
    // handle answered at another connection's ACS URL is not this test's.
    if (routeConnectionId !== undefined && connection.id !== routeConnectionId) {
      throw new GatehouseError("SSO_STATE_UNKNOWN", "This test sign-in is not known.", {
        detail: "the answer came to another connection's endpoint",
        check: { check: "state", expected: "the endpoint of the connection under test", received: "another" },
      });
    }
    attempt.pass("state", "a test started in this browser, not yet used, in time", "as expected");
    const assertion = await adapter.complete(
      { connection, saved: tested.saved },
      response,
      opened.transaction,
      attempt,
    );
    attempt.identify({ subject: assertion.subject, email: assertion.email });
    result.rawClaims = assertion.rawClaims.map((set) => ({ ...set }));
    checkEmailDomain(connection, assertion.email, ctx.now(), attempt);
    const organization = await findOrganizationById(ctx.store.db, row.organization_id);
    const roles = decideRole(connection.roles, assertion.claims);
    result.roles = explainRoles(connection.roles, roles);
    const account = await rehearseProvisioning(
      ctx,
      {
        // An edit's test finds the people the saved connection signs in, as the sign-ins after
        // Save will: not the test's own key, which knows nobody.
        providerKey: tested.accountsOf ? `connection:${tested.accountsOf}` : assertion.providerKey,
        connectionId: tested.accountsOf ?? row.connection_id,
        subject: assertion.subject,
        email: assertion.email,
        name: assertion.name,
        givenName: assertion.givenName,
        familyName: assertion.familyName,
        roles,
      },
      row.organization_id,
    );
    attempt.pass("account", "an account this connection may sign in", accountText[account.kind]);
    result.signIn = {
      email: assertion.email,
      name: assertion.name,
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
    attempt.fail(failure, checkList);
    result.failure = { code: failure.code, detail: failure.detail ?? failure.message };
    // Verified before a later check refused: what the admin needs to see to fix the mapping.
    if (attempt.rawClaims) result.rawClaims = attempt.rawClaims;
  }
  const now = ctx.now();
  await finishConnectionTest(
    ctx.store.db,
    row.id,
    { outcome: result.outcome, result: JSON.stringify(result) },
    now,
  );
  const failed = attempt.entries.find((c) => !c.passed);
  await insertAuditEvent(
    ctx.store.db,
    {
      type: "connection.tested",
      organizationId: row.organization_id,
      actorUserId: row.actor_user_id,
      connectionId: row.connection_id,
      outcome: result.outcome,
      email: attempt.email ?? null,
      subject: attempt.subject ?? null,
      reasonCode: result.failure?.code ?? null,
      ip: request.ip,
      detail: {
        saved: result.saved,
        name: result.connectionName,
        // The failed check as data, as a real sign-in's refusal is audited.
        ...(failed
          ? {
              check: failed.check,
              ...(failed.expected !== undefined ? { expected: failed.expected } : {}),
              ...(failed.received !== undefined ? { received: failed.received } : {}),
              detail: failed.detail ?? "",
            }
          : {}),
      },
    },
    now,
  );
  return { ok: true, returnTo: opened.transaction.returnTo };
}
