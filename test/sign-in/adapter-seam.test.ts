import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Assertion, SignInAdapter } from "../../src/sign-in/adapter.js";
import { completeSignIn } from "../../src/sign-in/complete.js";
import { renderSignInResult } from "../../src/sign-in/result-page.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { findConnectionById } from "../../src/store/connections.js";
import { seedConnection, seedOrganization } from "../store/fixtures.js";
import { Browser, errorCode } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

/**
 * The seam a protocol plugs into: an adapter written here, with no OpenID Connect in it,
 * registered in place of the real one, signs people in through the same pipeline — transaction,
 * domain policy, roles, provisioning, session, audit. The connection's issuer resolves nowhere,
 * so a sign-in that reached OpenID Connect code would fail.
 */
const IDP = "https://idp.invalid/sso";

interface Person {
  subject: string;
  email: string;
  groups: string[];
}

function inTestAdapter(
  people: Map<string, Person>,
  seen: { payloads: unknown[]; allowUnsolicited?: boolean },
): SignInAdapter {
  return {
    protocol: "oidc",
    method: "sso",
    checks: [{ check: "signed", label: "The in-test IdP's answer" }],
    async begin(target, { handle }) {
      const url = new URL(IDP);
      url.searchParams.set("connection", target.connection?.id ?? "");
      url.searchParams.set("relay", handle);
      return {
        step: { kind: "redirect", url: url.toString() },
        payload: { requestId: `req-${handle.slice(0, 8)}` },
      };
    },
    readHandle(response) {
      return response.form.relay ?? response.url.searchParams.get("relay") ?? undefined;
    },
    acceptsUnsolicited: () => seen.allowUnsolicited === true,
    // Passed on as the IdP sent it, unchecked: the pipeline alone keeps it to this origin.
    unsolicitedReturnTo: (response) => response.form.land,
    async complete(target, response, transaction, attempt) {
      seen.payloads.push(transaction.payload);
      const person = people.get(response.form.person ?? response.url.searchParams.get("person") ?? "");
      if (!person) throw new Error("the in-test IdP knows no such person");
      attempt.pass("signed", "an answer from the in-test IdP", person.subject);
      const assertion: Assertion = {
        providerKey: `connection:${target.connection?.id}`,
        subject: person.subject,
        email: person.email,
        emailVerified: true,
        name: "Ada Lovelace",
        givenName: "Ada",
        familyName: "Lovelace",
        claims: { groups: person.groups },
        idpSession: { protocol: "saml", nameId: person.subject, nameIdFormat: null, sessionIndex: "idx-1" },
        rawClaims: [{ key: "in-test", title: "In-test claims", claims: { groups: person.groups } }],
      };
      return assertion;
    },
  };
}

describe("sign-in: a protocol adapter plugs into the one pipeline", () => {
  let gh: TestGatehouse;
  let organizationId: string;
  let connectionId: string;
  const seen = { payloads: [] as unknown[], allowUnsolicited: false };
  let otherConnectionId: string;
  const people = new Map<string, Person>([
    ["ada", { subject: "ada-001", email: "ada@acme.test", groups: ["gatehouse-admins"] }],
    ["mallory", { subject: "mallory-001", email: "mallory@evil.test", groups: [] }],
  ]);

  before(async () => {
    // A protocol's per-connection endpoint (as SAML's ACS URL): the route only hands the answer on.
    gh = await startGatehouse({
      routes: (app) =>
        app.post<{ Params: { connection: string } }>("/in-test/:connection/acs", async (request, reply) => {
          const adapter = gh.ctx.signIn.get(gh.ctx, "oidc");
          const result = await completeSignIn(gh.ctx, request, reply, adapter, {
            connectionId: request.params.connection,
          });
          return renderSignInResult(gh.ctx, reply, result, "password");
        }),
    });
    const db = gh.ctx.store.db;
    const acme = await seedOrganization(db, "acme");
    organizationId = acme.id;
    connectionId = await seedConnection(db, acme, { name: "Acme In-test", domains: ["acme.test"] });
    await db
      .updateTable("connections")
      .set({ role_rules: JSON.stringify([{ group: "gatehouse-admins", role: "admin" }]) })
      .where("id", "=", connectionId)
      .execute();
    otherConnectionId = await seedConnection(db, await seedOrganization(db, "globex"), {
      name: "Globex In-test",
      domains: ["globex.test"],
    });
    gh.ctx.signIn.register("oidc", () => inTestAdapter(people, seen));
  });
  after(() => gh.close());

  async function signInAs(
    person: string,
  ): Promise<{ browser: Browser; status: number; location: string; body: string }> {
    const browser = new Browser();
    const start = await browser.get(`${gh.url}/sso/start?email=ada%40acme.test&return_to=%2Fwelcome`);
    assert.equal(start.status, 302);
    const toIdp = new URL(start.headers.get("location") ?? "");
    assert.equal(`${toIdp.origin}${toIdp.pathname}`, IDP, "the adapter chose where the browser goes");
    assert.equal(toIdp.searchParams.get("connection"), connectionId);
    const relay = toIdp.searchParams.get("relay") ?? "";
    const back = await browser.get(
      `${gh.url}/sso/oidc/callback?relay=${encodeURIComponent(relay)}&person=${person}`,
    );
    return { browser, status: back.status, location: back.headers.get("location") ?? "", body: back.body };
  }

  test("a person is provisioned with the role from their groups, gets a session, and the sign-in is audited", async () => {
    assert.equal((await findConnectionById(gh.ctx.store.db, connectionId))?.protocol, "oidc");
    const { browser, status, location } = await signInAs("ada");
    assert.equal(status, 303);
    assert.equal(location, "/welcome");
    // What begin kept came back to complete through the transaction's payload.
    assert.match(String((seen.payloads.at(-1) as { requestId?: unknown }).requestId), /^req-/);

    const db = gh.ctx.store.db;
    const user = await db
      .selectFrom("users")
      .selectAll()
      .where("email", "=", "ada@acme.test")
      .executeTakeFirstOrThrow();
    assert.equal(user.given_name, "Ada");
    const membership = await db
      .selectFrom("memberships")
      .selectAll()
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    assert.equal(membership.organization_id, organizationId);
    assert.equal(membership.role, "admin", "the connection's role rule matched the asserted group");
    const identity = await db
      .selectFrom("identities")
      .selectAll()
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual([identity.provider_key, identity.subject], [`connection:${connectionId}`, "ada-001"]);
    const session = await db
      .selectFrom("sessions")
      .selectAll()
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    assert.equal(session.method, "sso");
    assert.equal(session.connection_id, connectionId);
    assert.equal(session.id_token_sealed, null);
    assert.ok(session.idp_session_sealed?.startsWith("v1."), "the IdP session is kept sealed for sign-out");
    const [event] = await listAuditEvents(db, {
      organizationId,
      type: "sign_in.sso",
      outcome: "success",
      limit: 1,
    });
    assert.equal(event?.type, "sign_in.sso");
    assert.equal(event?.subject, "ada-001");

    const home = await browser.get(`${gh.url}/`);
    assert.match(home.body, /ada@acme\.test/);
  });

  test("the pipeline's domain policy refuses what any adapter asserts outside the connection's domains", async () => {
    const { status, body } = await signInAs("mallory");
    assert.equal(status, 400);
    assert.equal(errorCode(body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    const db = gh.ctx.store.db;
    assert.equal(
      await db.selectFrom("users").select("id").where("email", "=", "mallory@evil.test").executeTakeFirst(),
      undefined,
    );
    const [event] = await listAuditEvents(db, { organizationId, outcome: "failure", limit: 1 });
    assert.equal(event?.reasonCode, "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    assert.equal(event?.subject, "mallory-001");
  });

  test("the handle works once: a replayed answer is refused by the pipeline, not the adapter", async () => {
    const browser = new Browser();
    const start = await browser.get(`${gh.url}/sso/start?email=ada%40acme.test`);
    const relay = new URL(start.headers.get("location") ?? "").searchParams.get("relay") ?? "";
    const callback = `${gh.url}/sso/oidc/callback?relay=${encodeURIComponent(relay)}&person=ada`;
    assert.equal((await browser.get(callback)).status, 303);
    const again = await browser.get(callback);
    assert.equal(errorCode(again.body), "SSO_STATE_REPLAYED");
  });

  test("an answer at a connection's own endpoint must carry a handle of that connection", async () => {
    const browser = new Browser();
    const start = await browser.get(`${gh.url}/sso/start?email=ada%40acme.test`);
    const relay = new URL(start.headers.get("location") ?? "").searchParams.get("relay") ?? "";
    const elsewhere = await browser.post(`${gh.url}/in-test/${otherConnectionId}/acs`, {
      relay,
      person: "ada",
    });
    assert.equal(errorCode(elsewhere.body), "SSO_STATE_UNKNOWN");
  });

  test("an answer without a handle (IdP-initiated) signs in only where the adapter accepts one", async () => {
    seen.allowUnsolicited = false;
    const refused = await new Browser().post(`${gh.url}/in-test/${connectionId}/acs`, { person: "ada" });
    assert.equal(errorCode(refused.body), "SSO_STATE_MISSING");

    seen.allowUnsolicited = true;
    const browser = new Browser();
    const accepted = await browser.post(`${gh.url}/in-test/${connectionId}/acs`, { person: "ada" });
    assert.equal(accepted.status, 303);
    assert.equal(accepted.location, `${gh.url}/`);
    assert.match((await browser.get(`${gh.url}/`)).body, /ada@acme\.test/);
    seen.allowUnsolicited = false;
  });

  test("an IdP-initiated sign-in lands where the adapter says only when that is a same-origin path", async () => {
    seen.allowUnsolicited = true;
    try {
      const cases: Array<[string, string]> = [
        ["/inbox?folder=2", `${gh.url}/inbox?folder=2`],
        ["https://evil.test/", `${gh.url}/`],
        ["//evil.test/", `${gh.url}/`],
        ["/\\evil.test", `${gh.url}/`],
      ];
      for (const [land, expected] of cases) {
        const answer = await new Browser().post(`${gh.url}/in-test/${connectionId}/acs`, {
          person: "ada",
          land,
        });
        assert.equal(answer.status, 303);
        assert.equal(answer.location, expected, land);
      }
    } finally {
      seen.allowUnsolicited = false;
    }
  });
});
