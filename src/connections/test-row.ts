import { urlFor } from "../config.js";
import type { AppContext } from "../server/context.js";
import type { ConnectionTestRow } from "../store/connection-tests.js";

/**
 * What every test sign-in shares, whichever protocol's values it runs with: its lifetime, its
 * pages, who started it, and the context its sealed secret is bound to.
 */

/** A test must come back within this time; the unsaved values and their sealed secret live no longer. */
export const TEST_TTL_MS = 10 * 60 * 1000;

export const testPaths = {
  result: (id: string) => `/admin/enterprise-authentication/oidc/tests/${id}`,
  start: (id: string) => `/admin/enterprise-authentication/oidc/tests/${id}/start`,
};

/** What `POST /api/v1/connections/test` and `/connections/{id}/test` answer. */
export interface StartedTest {
  id: string;
  /** Open it in a browser signed in as an admin of the organization. */
  url: string;
  resultUrl: string;
  expiresAt: string;
}

export interface TestActor {
  organizationId: string;
  actorUserId: string | null;
  /** The admin session the test belongs to; null for an API key (the first admin to open it). */
  actorSessionHash?: string | undefined;
  ip?: string | undefined;
}

/** The sealed secret's context (a client secret, a SAML SP key): bound to its test (src/crypto/secret-box.ts). */
export const testSecretContext = (id: string) => `connection-test:${id}`;

export function startedTest(ctx: AppContext, row: ConnectionTestRow): StartedTest {
  return {
    id: row.id,
    url: urlFor(ctx.config, testPaths.start(row.id)),
    resultUrl: urlFor(ctx.config, testPaths.result(row.id)),
    expiresAt: new Date(row.expires_at).toISOString(),
  };
}

/**
 * The row of a test of unsaved values: not tied to a connection (the test runs with these
 * values, not a saved connection's, even for an edit), its secret sealed to the test.
 */
export function unsavedTestRow(
  ctx: AppContext,
  actor: TestActor,
  id: string,
  settings: unknown,
  secret: string,
): ConnectionTestRow {
  const now = ctx.now();
  return {
    id,
    organization_id: actor.organizationId,
    connection_id: null,
    actor_user_id: actor.actorUserId,
    session_hash: actor.actorSessionHash ?? null,
    settings: JSON.stringify(settings),
    client_secret_sealed: ctx.box.seal(secret, testSecretContext(id)),
    result: null,
    outcome: null,
    created_at: now,
    expires_at: now + TEST_TTL_MS,
    finished_at: null,
  };
}
