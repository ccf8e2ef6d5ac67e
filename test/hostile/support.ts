import assert from "node:assert/strict";
import { createConnection } from "../../src/connections/create.js";
import { deleteConnection } from "../../src/connections/delete.js";
import type { ConnectionInput } from "../../src/connections/validate.js";
import type { ErrorCode } from "../../src/errors.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { type Answer, Browser, errorCode, errorRemedy } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";
import { type HostileProvider, MARKER, type Scenario, startHostileProvider } from "./provider.js";

/**
 * One Gatehouse per test file, and for each test a fresh hostile provider with a fresh
 * connection to it, so no discovery document, JWKS or client configuration cached by an
 * earlier test can hide or cause a failure.
 */
export class Harness {
  op: HostileProvider | undefined;
  connectionId: string | undefined;

  constructor(
    readonly gh: TestGatehouse,
    readonly organizationId: string,
  ) {}

  /**
   * Starts a provider with `scenario` already installed (so its discovery document is the one
   * Gatehouse reads when the connection is created) and connects the organization to it.
   */
  async provider(
    scenario: Scenario | ((op: HostileProvider) => Scenario) = {},
    settings: Partial<ConnectionInput> = {},
    start: { issuerPath?: string } = {},
  ): Promise<HostileProvider> {
    await this.disconnect();
    const op = await startHostileProvider({ redirectUri: `${this.gh.url}/sso/oidc/callback`, ...start });
    op.set(typeof scenario === "function" ? scenario(op) : scenario);
    this.op = op;
    const { connection } = await createConnection(this.gh.ctx, {
      organizationId: this.organizationId,
      input: {
        name: "Hostile OP",
        issuer: op.issuer,
        clientId: op.clientId,
        clientSecret: op.clientSecret,
        domains: ["acme.test"],
        ...settings,
      },
      actorUserId: null,
    });
    this.connectionId = connection.id;
    if (connection.type === "oidc" && connection.jwksUrl) op.clientJwksUrl = connection.jwksUrl;
    // Creating the connection checked its credentials at the token endpoint; tests count
    // what sign-ins send there.
    op.calls.token = 0;
    op.tokenRequests.length = 0;
    return op;
  }

  async disconnect(): Promise<void> {
    if (this.connectionId) {
      await deleteConnection(
        this.gh.ctx,
        { organizationId: this.organizationId, actorUserId: null },
        this.connectionId,
      );
      this.connectionId = undefined;
    }
    await this.op?.close();
    this.op = undefined;
  }

  async close(): Promise<void> {
    await this.disconnect();
    await this.gh.close();
  }
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const gh = await startGatehouse({ env });
  const { organizationId } = await seedAcme(gh);
  return new Harness(gh, organizationId);
}

export interface Attempt {
  browser: Browser;
  /** The provider's redirect back to Gatehouse. */
  callbackUrl: string;
  /** Gatehouse's answer to the callback. */
  answer: Answer;
}

/** `GET /sso/start?email=alice@acme.test`, through the provider's /authorize, back to the callback. */
export async function signIn(h: Harness, browser = new Browser()): Promise<Attempt> {
  const { callbackUrl } = await authorize(h, browser);
  const answer = await browser.get(callbackUrl);
  return { browser, callbackUrl, answer };
}

/**
 * The first two legs only: Gatehouse's redirect to the provider, and the provider's redirect
 * back to the callback, not yet visited.
 */
export async function authorize(
  h: Harness,
  browser: Browser,
): Promise<{ authorizeUrl: string; callbackUrl: string }> {
  const op = h.op;
  assert.ok(op, "no provider started");
  const start = await browser.get(`${h.gh.url}/sso/start?email=alice@acme.test`);
  assert.equal(start.status, 302, `start: ${start.status} ${start.body.slice(0, 300)}`);
  const authorizeUrl = start.location ?? "";
  assert.ok(authorizeUrl.startsWith(`${op.issuer}/authorize?`), `start went to ${authorizeUrl}`);
  const back = await browser.get(authorizeUrl);
  assert.equal(back.status, 302, `authorize: ${back.status} ${back.body.slice(0, 300)}`);
  const callbackUrl = back.location ?? "";
  assert.ok(callbackUrl.startsWith(`${h.gh.url}/sso/oidc/callback?`), `authorize went to ${callbackUrl}`);
  return { authorizeUrl, callbackUrl };
}

export interface Snapshot {
  users: number;
  identities: number;
  sessions: number;
  failures: Set<string>;
}

export async function snapshot(h: Harness): Promise<Snapshot> {
  const db = h.gh.ctx.store.db;
  const count = async (table: "users" | "identities" | "sessions") =>
    Number((await db.selectFrom(table).select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  const failures = await db
    .selectFrom("audit_events")
    .select("id")
    .where("type", "=", "sign_in.sso")
    .where("outcome", "=", "failure")
    .execute();
  return {
    users: await count("users"),
    identities: await count("identities"),
    sessions: await count("sessions"),
    failures: new Set(failures.map((f) => f.id)),
  };
}

export interface Refusal {
  code: ErrorCode;
  /** What the audit event's technical reason (`detail.detail`) must match. */
  check: RegExp;
  /** The failed check's name (`detail.check`), when the test pins it. */
  failedCheck?: string;
  /** Taken before the attempt. */
  before: Snapshot;
  /** What the page must tell the person, when the test pins it (src/error-remedy.ts). */
  remedy?: "retry" | "administrator" | undefined;
  /**
   * Whether Gatehouse can know the connection, so the event is in the organization's log.
   * Not when the state is missing or unknown: nothing ties the request to an organization.
   */
  inOrganizationLog?: boolean;
}

/**
 * The four things every refused sign-in must show: no session, no user or identity row, an
 * error page with the code that does not echo attacker-controlled text, and an audit event
 * with the code and the failed check.
 */
export async function assertRefused(
  h: Harness,
  attempt: Pick<Attempt, "browser" | "answer">,
  expected: Refusal,
) {
  const { answer, browser } = attempt;
  const db = h.gh.ctx.store.db;

  // 1. No session.
  assert.notEqual(answer.status, 303, `signed in instead of ${expected.code}`);
  const me = await browser.get(`${h.gh.url}/api/v1/me`);
  assert.equal(me.status, 401, "GET /api/v1/me must answer 401");
  const after = await snapshot(h);
  assert.equal(after.sessions, expected.before.sessions, "no session row");

  // 2. No user or identity.
  assert.equal(after.users, expected.before.users, "no user row");
  assert.equal(after.identities, expected.before.identities, "no identity row");

  // 3. The page: the code, a 4xx/5xx, nothing the provider sent rendered as markup.
  assert.ok(answer.status >= 400, `status ${answer.status}`);
  assert.equal(errorCode(answer.body), expected.code, `page: ${answer.body.slice(0, 400)}`);
  if (expected.remedy)
    assert.equal(errorRemedy(answer.body), expected.remedy, "what the page tells the person");
  assertNoMarkup(answer.body);

  // 4. The audit event.
  const fresh = await db
    .selectFrom("audit_events")
    .selectAll()
    .where("type", "=", "sign_in.sso")
    .where("outcome", "=", "failure")
    .execute();
  const events = fresh.filter((e) => !expected.before.failures.has(e.id));
  assert.equal(events.length, 1, "exactly one failed sign-in event");
  const [event] = events;
  assert.ok(event);
  assert.equal(event.reason_code, expected.code);
  // The failed check as data: its name, and the reason in words.
  const detail = JSON.parse(event.detail ?? "{}") as { check?: unknown; detail?: unknown };
  assert.equal(typeof detail.check, "string");
  assert.notEqual(detail.check, "unknown", "the refusal names its check");
  if (expected.failedCheck) assert.equal(detail.check, expected.failedCheck);
  assert.match(String(detail.detail), expected.check);
  assert.ok(event.trace_id && answer.body.includes(event.trace_id), "the page shows the event's trace id");
  // The page tells where the code can be looked up: the sign-in activity only when it is there.
  const where = /data-testid="trace-where">([^<]*)</.exec(answer.body)?.[1] ?? "";
  assert.match(
    where,
    expected.inOrganizationLog === false ? /Gatehouse&#39;s logs|Gatehouse's logs/ : /sign-in activity/,
  );
  if (h.op) assert.ok(!JSON.stringify(event).includes(h.op.clientSecret), "no client secret in the audit");
  if (expected.inOrganizationLog !== false) {
    const [listed] = await listAuditEvents(db, {
      organizationId: h.organizationId,
      type: "sign_in.sso",
      outcome: "failure",
      limit: 1,
    });
    assert.equal(listed?.id, event.id, "the organization's log shows it");
    assert.equal(listed?.connectionId, h.connectionId);
  }
  return event;
}

/** A page may mention attacker text only escaped: no MARKER, no inline script at all. */
export function assertNoMarkup(body: string): void {
  assert.ok(!body.includes(MARKER), "attacker text rendered unescaped");
  assert.doesNotMatch(body, /<script(?![^>]*\ssrc=)/i, "an inline <script> in the page");
}

/** A sign-in that worked: 303 home, a session for Alice through this connection, an audit success. */
export async function assertSignedIn(h: Harness, attempt: Attempt, email = "alice@acme.test"): Promise<void> {
  assert.equal(attempt.answer.status, 303, `expected success, got ${errorCode(attempt.answer.body)}`);
  const me = await attempt.browser.get(`${h.gh.url}/api/v1/me`);
  assert.equal(me.status, 200);
  const body = JSON.parse(me.body) as {
    user: { email: string };
    signInMethod: string;
    connection: { id: string } | null;
  };
  assert.equal(body.user.email, email);
  assert.equal(body.signInMethod, "sso");
  assert.equal(body.connection?.id, h.connectionId);
  const home = await attempt.browser.get(`${h.gh.url}/`);
  assertNoMarkup(home.body);
  const [event] = await listAuditEvents(h.gh.ctx.store.db, {
    organizationId: h.organizationId,
    type: "sign_in.sso",
    limit: 1,
  });
  assert.equal(event?.outcome, "success");
}
