import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { deleteConnection } from "../../src/connections/delete.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import { metricsHeaders, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, signInAtIdp, ssoSignIn, startIdp } from "../support/sso.js";

let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
let connectionId: string;

async function me(browser: Browser) {
  const home = await browser.get(`${gh.url}/`);
  const email = /data-field="email">([^<]+)</.exec(home.body)?.[1];
  const method = /data-field="method">([^<]+)</.exec(home.body)?.[1];
  return { email, method };
}

async function lastFailure() {
  const [event] = await listAuditEvents(gh.ctx.store.db, { organizationId, outcome: "failure", limit: 1 });
  return event;
}

/** Types the address on the sign-in page: the answer sends the browser to the provider. */
async function startAtLoginPage(browser: Browser, email: string) {
  const login = await browser.get(`${gh.url}/login`);
  return browser.post(`${gh.url}/login`, { _csrf: csrfToken(login.body), email });
}

/** The row of the connection's sign-in activity with this reference code, as an admin sees it. */
async function activityRow(traceId: string | null | undefined): Promise<string | undefined> {
  const admin = new Browser();
  // The admin is at acme.test too: once the connection is enabled, they sign in through SSO as well.
  assert.equal((await ssoSignIn(admin, gh, idp, ADMIN.email, "admin-password")).status, 303);
  const page = await admin.get(`${gh.url}/admin/enterprise-authentication/oidc`);
  assert.equal(page.status, 200);
  return new RegExp(`<tr data-outcome="failure" data-trace-id="${traceId}">[\\s\\S]*?</tr>`).exec(
    page.body,
  )?.[0];
}

before(async () => {
  gh = await startGatehouse();
  idp = await startIdp(gh, [
    { email: "mallory@evil.test", password: "mallory-password", name: "Mallory" },
    { email: "unverified@acme.test", password: "unverified-password", name: "Una", emailVerified: false },
  ]);
  ({ organizationId } = await seedAcme(gh));
  connectionId = (await connectAcme(gh, idp, organizationId)).id;
});
after(async () => {
  await idp.close();
  await gh.close();
});

describe("SSO sign-in through a real OpenID Provider", () => {
  test("signs Alice in and provisions her just in time as a member", async () => {
    const browser = new Browser();
    const answer = await ssoSignIn(browser, gh, idp, "alice@acme.test", "alice-password");
    assert.equal(answer.status, 303, answer.body);
    assert.equal(answer.location, `${gh.url}/`);
    assert.deepEqual(await me(browser), { email: "alice@acme.test", method: "Single sign-on · Acme Okta" });
    const users = await gh.ctx.store.db
      .selectFrom("users")
      .innerJoin("memberships", "memberships.user_id", "users.id")
      .select(["email", "role"])
      .where("email", "=", "alice@acme.test")
      .execute();
    assert.deepEqual(users, [{ email: "alice@acme.test", role: "member" }]);
  });

  test("a second sign-in reuses the user found by (connection, sub)", async () => {
    const browser = new Browser();
    await ssoSignIn(browser, gh, idp, "alice@acme.test", "alice-password");
    const rows = await gh.ctx.store.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "alice@acme.test")
      .execute();
    assert.equal(rows.length, 1);
    const identities = await gh.ctx.store.db
      .selectFrom("identities")
      .select("id")
      .where("provider_key", "=", `connection:${connectionId}`)
      .where("user_id", "=", rows[0]!.id)
      .execute();
    assert.equal(identities.length, 1);
  });

  test("a returning sign-in from /sso/start counts its limits in one statement and reads its user once", async () => {
    const statements = async () => {
      const text = (await new Browser().get(`${gh.url}/metrics`, metricsHeaders)).body;
      return new Map(
        [...text.matchAll(/^gatehouse_db_statements_total\{statement="([^"]+)"\} (\d+)/gm)].map((m) => [
          m[1] as string,
          Number(m[2]),
        ]),
      );
    };
    const browser = new Browser();
    await ssoSignIn(browser, gh, idp, "alice@acme.test", "alice-password");
    const before = await statements();
    const start = await browser.get(`${gh.url}/sso/start?email=alice%40acme.test`);
    const back = await signInAtIdp(browser, start, idp, "alice@acme.test", "alice-password", gh.url);
    assert.equal((await browser.get(back.location as string)).status, 303);
    const after = await statements();
    const delta = (kind: string) => (after.get(kind) ?? 0) - (before.get(kind) ?? 0);
    assert.equal(delta("insert into rate_limits"), 1, "lookup, flows and open sign-ins in one upsert");
    assert.equal(delta("select identities"), 1);
    assert.equal(delta("update users"), 0, "the names did not change");
    assert.equal(delta("select memberships"), 0, "the role came with the identity");
  });

  test("every request to the identity provider is timed for /metrics", async () => {
    const answered = async () => {
      const text = (await new Browser().get(`${gh.url}/metrics`, metricsHeaders)).body;
      const count = /^gatehouse_idp_request_duration_seconds_count\{outcome="answered"\} (\d+)$/m.exec(text);
      return Number(count?.[1] ?? 0);
    };
    const before = await answered();
    await ssoSignIn(new Browser(), gh, idp, "alice@acme.test", "alice-password");
    assert.ok((await answered()) >= before + 1, "at least the token request of the sign-in");
  });

  test("after the provider signed in an account the connection refuses, another account can be chosen: the provider is asked to sign in afresh", async () => {
    const browser = new Browser();
    const start = await browser.get(`${gh.url}/sso/start?email=${encodeURIComponent("alice@acme.test")}`);
    const back = await signInAtIdp(browser, start, idp, "mallory@evil.test", "mallory-password", gh.url);
    const refused = await browser.get(back.location as string);
    assert.equal(errorCode(refused.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    const switchHref = /<a class="btn btn-primary" href="([^"]+)">Sign in with another account<\/a>/.exec(
      refused.body,
    )?.[1];
    assert.equal(switchHref, "/sso/start?email=alice%40acme.test&amp;reauthenticate=1");
    const again = await browser.get(`${gh.url}/sso/start?email=alice%40acme.test&reauthenticate=1`);
    const authorize = new URL(again.location ?? "");
    assert.equal(authorize.searchParams.get("prompt"), "login");
    assert.equal(authorize.searchParams.get("login_hint"), "alice@acme.test");
    // The provider still has Mallory's session, yet asks who is signing in instead of reusing it.
    const backHome = (url: string) => url.startsWith(gh.url);
    const login = await browser.follow(again, backHome);
    assert.equal(login.status, 200, "the provider's sign-in form, not Mallory's session");
    const action = /<form method="post" action="([^"]+\/login)"/.exec(login.body)?.[1] ?? "";
    let page = await browser.follow(
      await browser.post(new URL(action, login.url).toString(), {
        email: "alice@acme.test",
        password: "alice-password",
      }),
      backHome,
    );
    // oidc-provider ends Mallory's session before Alice's begins, with a form a browser submits.
    const endSession = /<form method="post" action="([^"]+\/session\/end\/confirm)">([\s\S]*?)<\/form>/.exec(
      page.body,
    );
    if (endSession) {
      const fields = Object.fromEntries(
        [...(endSession[2] ?? "").matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      page = await browser.follow(await browser.post(endSession[1] ?? "", fields), backHome);
    }
    assert.ok(page.location && backHome(page.location), `back to Gatehouse: ${page.status}`);
    const home = await browser.get(page.location);
    assert.equal(home.status, 303);
    assert.equal((await me(browser)).email, "alice@acme.test");
    // Without it, the provider's session answers at once: the trap the button avoids.
    const plain = await new Browser().get(`${gh.url}/sso/start?email=alice%40acme.test`);
    assert.equal(new URL(plain.location ?? "").searchParams.get("prompt"), null);
  });

  test("an email outside the connection's domains is refused", async () => {
    const browser = new Browser();
    const start = await browser.get(`${gh.url}/sso/start?organization=acme&connection=acme%20okta`);
    const back = await signInAtIdp(browser, start, idp, "mallory@evil.test", "mallory-password", gh.url);
    const answer = await browser.get(back.location as string);
    assert.equal(errorCode(answer.body), "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    // The person sees which account the provider signed them in as, and that switching helps.
    assert.match(
      answer.body,
      /<p class="lead">Your identity provider signed you in as mallory@evil\.test\.<\/p>/,
    );
    assert.match(answer.body, /data-remedy="retry"/);
    assert.match(
      answer.body,
      /If it is not your work account, sign in with another account; if your identity provider signs you straight back in as the same account, sign out there first\./,
    );
    assert.equal((await me(browser)).email, undefined);
    const event = await lastFailure();
    assert.equal(event?.reasonCode, "SSO_EMAIL_DOMAIN_NOT_ALLOWED");
    assert.equal(event?.email, "mallory@evil.test");
    // The failed check as data, with the reason in words beside it.
    assert.equal(event?.detail?.check, "email_domain");
    assert.equal(event?.detail?.expected, "one of acme.test");
    assert.equal(event?.detail?.received, "evil.test");
    assert.match(String(event?.detail?.detail), /evil\.test/);
    assert.ok(
      event?.traceId && answer.body.includes(event.traceId),
      "the page shows the trace id the audit keeps",
    );
    const users = await gh.ctx.store.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "mallory@evil.test")
      .execute();
    assert.equal(users.length, 0);
  });

  test("the admin finds that attempt in the connection's sign-in activity, by its reference code", async () => {
    const [refused] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      outcome: "failure",
      type: "sign_in.sso",
      limit: 1,
    });
    assert.ok(refused?.traceId);
    const row = await activityRow(refused.traceId);
    assert.ok(row, "the failed attempt is listed with its reference code");
    assert.match(row, /mallory@evil\.test/);
    assert.match(row, /SSO_EMAIL_DOMAIN_NOT_ALLOWED/);
    assert.match(
      row,
      /evil\.test is not one of the connection&#39;s domains|domain evil\.test is not one of/,
    );
  });

  test("a refusal before the provider says who: audited and listed with the address typed to start", async () => {
    const browser = new Browser();
    const start = await startAtLoginPage(browser, "Bob@Acme.test");
    const state = new URL(start.location as string).searchParams.get("state");
    assert.ok(state, start.location);
    // The person cancels at the provider: it answers with an error, and says nothing of who.
    const callback = new URL(`${gh.url}/sso/oidc/callback`);
    callback.search = new URLSearchParams({ error: "access_denied", state, iss: idp.issuer }).toString();
    const answer = await browser.get(callback.toString());
    assert.equal(errorCode(answer.body), "SSO_IDP_ERROR");
    const event = await lastFailure();
    assert.equal(event?.reasonCode, "SSO_IDP_ERROR");
    assert.equal(event?.email, null, "nobody confirmed the address");
    assert.equal(event?.subject, null);
    assert.equal(event?.detail?.typedEmail, "bob@acme.test");

    const row = await activityRow(event?.traceId);
    assert.ok(row, "listed with its reference code");
    assert.match(
      row,
      /data-testid="typed-email">bob@acme\.test<\/span> <span class="muted">\(typed at sign-in/,
    );

    // An address the provider did assert is the event's email; the different one typed is kept
    // beside it, so both "why can't Alice sign in?" and "who is unverified@?" find the row.
    const other = new Browser();
    const otherStart = await startAtLoginPage(other, "alice@acme.test");
    const back = await signInAtIdp(
      other,
      otherStart,
      idp,
      "unverified@acme.test",
      "unverified-password",
      gh.url,
    );
    assert.equal(errorCode((await other.get(back.location as string)).body), "SSO_EMAIL_UNVERIFIED");
    const unverified = await lastFailure();
    assert.equal(unverified?.email, "unverified@acme.test");
    assert.equal(unverified?.detail?.typedEmail, "alice@acme.test");
    const otherRow = await activityRow(unverified?.traceId);
    assert.ok(otherRow, "listed with its reference code");
    assert.match(
      otherRow,
      /<td>unverified@acme\.test<br><span data-testid="typed-email">alice@acme\.test<\/span> <span class="muted">\(typed at sign-in/,
    );
  });

  test("a sign-in as the address typed records no typed address beside it", async () => {
    const browser = new Browser();
    const start = await startAtLoginPage(browser, "Alice@Acme.test");
    const back = await signInAtIdp(browser, start, idp, "alice@acme.test", "alice-password", gh.url);
    assert.equal((await browser.get(back.location as string)).status, 303);
    const [success] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      outcome: "success",
      type: "sign_in.sso",
      limit: 1,
    });
    assert.equal(success?.email, "alice@acme.test");
    assert.equal(success?.detail?.typedEmail, undefined);
  });

  test("People and the users API say a member with a password at an enforced domain signs in through SSO", async () => {
    const admin = new Browser();
    assert.equal((await ssoSignIn(admin, gh, idp, ADMIN.email, "admin-password")).status, 303);
    const page = await admin.get(`${gh.url}/admin/people`);
    assert.equal(page.status, 200);
    const row = new RegExp(`<tr data-user-id="[^"]+" data-email="${ADMIN.email}"[\\s\\S]*?</tr>`).exec(
      page.body,
    )?.[0];
    assert.ok(row, "the admin's row");
    // The admin holds a password from before the connection, which the connection now refuses.
    assert.match(row, /data-field="sign-in-now">Single sign-on \(Acme Okta\)</);
    assert.match(row, /data-field="refused-methods">Password: refused while single sign-on is required</);

    const users = await admin.get(`${gh.url}/api/v1/users`);
    assert.equal(users.status, 200);
    const listed = (
      JSON.parse(users.body) as {
        data: {
          email: string;
          signInMethods: string[];
          ssoRequired: { connection: { id: string; name: string } | null } | null;
        }[];
      }
    ).data.find((u) => u.email === ADMIN.email);
    assert.deepEqual([...(listed?.signInMethods ?? [])].sort(), ["password", "sso"], "the credentials held");
    assert.deepEqual(listed?.ssoRequired, { connection: { id: connectionId, name: "Acme Okta" } });
  });

  test("email_verified: false is refused", async () => {
    const browser = new Browser();
    const answer = await ssoSignIn(browser, gh, idp, "unverified@acme.test", "unverified-password");
    assert.equal(errorCode(answer.body), "SSO_EMAIL_UNVERIFIED");
    assert.equal((await lastFailure())?.reasonCode, "SSO_EMAIL_UNVERIFIED");
  });

  test("a replayed state is refused", async () => {
    const browser = new Browser();
    const login = await browser.get(`${gh.url}/login`);
    const start = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(login.body),
      email: "bob@acme.test",
    });
    const back = await signInAtIdp(browser, start, idp, "bob@acme.test", "bob-password", gh.url);
    const first = await browser.get(back.location as string);
    assert.equal(first.status, 303);
    const replay = await browser.get(back.location as string);
    assert.equal(errorCode(replay.body), "SSO_STATE_REPLAYED");
  });

  test("an expired transaction is refused", async () => {
    const browser = new Browser();
    const start = await browser.get(`${gh.url}/sso/start?email=bob@acme.test`);
    const back = await signInAtIdp(browser, start, idp, "bob@acme.test", "bob-password", gh.url);
    gh.advance(11 * 60 * 1000);
    try {
      const answer = await browser.get(back.location as string);
      assert.equal(errorCode(answer.body), "SSO_STATE_EXPIRED");
    } finally {
      gh.advance(-11 * 60 * 1000);
    }
  });

  test("a callback in another browser (no binding cookie) is refused", async () => {
    const victim = new Browser();
    const start = await victim.get(`${gh.url}/sso/start?email=bob@acme.test`);
    const back = await signInAtIdp(victim, start, idp, "bob@acme.test", "bob-password", gh.url);
    const attacker = new Browser();
    const answer = await attacker.get(back.location as string);
    assert.equal(errorCode(answer.body), "SSO_BROWSER_MISMATCH");
    assert.equal((await me(attacker)).email, undefined);
  });

  test("a callback without state is refused", async () => {
    const answer = await new Browser().get(`${gh.url}/sso/oidc/callback?code=abc`);
    assert.equal(answer.status, 400);
    assert.equal(errorCode(answer.body), "SSO_STATE_MISSING");
  });

  test("an unknown email or connection name on the SSO screen is a clear 4xx", async () => {
    const answer = await new Browser().get(`${gh.url}/sso/start?email=someone@nowhere.test`);
    assert.equal(answer.status, 404);
    assert.equal(errorCode(answer.body), "SSO_NO_CONNECTION");
  });
});

describe("enforcement", () => {
  test("Alice's password sign-in is refused with the SSO error while the connection is enabled", async () => {
    const browser = new Browser();
    const login = await browser.get(`${gh.url}/login`);
    // Email-first: her domain goes straight to the IdP, never to a password step.
    const step = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(login.body),
      email: "alice@acme.test",
    });
    assert.equal(step.status, 303);
    assert.ok(step.location?.startsWith(idp.issuer));
    // A direct POST to the password step is refused too.
    const direct = await browser.post(`${gh.url}/login/password`, {
      _csrf: csrfToken(login.body),
      email: ADMIN.email,
      password: ADMIN.password,
    });
    assert.equal(direct.status, 403);
    assert.equal(errorCode(direct.body), "AUTH_SSO_REQUIRED");
    assert.equal((await me(browser)).email, undefined);
  });
});

describe("sign-out", () => {
  test("ends the local session and redirects to the IdP's end_session_endpoint with id_token_hint and the home page", async () => {
    const browser = new Browser();
    await ssoSignIn(browser, gh, idp, "bob@acme.test", "bob-password");
    const home = await browser.get(`${gh.url}/`);
    const out = await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal(out.status, 303);
    const target = new URL(out.location as string);
    assert.equal(`${target.origin}`, idp.issuer);
    assert.ok(target.searchParams.get("id_token_hint"));
    assert.equal(target.searchParams.get("post_logout_redirect_uri"), `${gh.url}/`);
    assert.equal(target.searchParams.get("client_id"), "gatehouse-okta");
    assert.equal((await me(browser)).email, undefined, "signed out locally before the IdP is even visited");
  });
});

describe("after the connection is deleted", () => {
  beforeEach(async () => {
    if (connectionId) {
      await deleteConnection(gh.ctx, { organizationId, actorUserId: null }, connectionId);
      connectionId = "";
    }
  });

  test("password sign-in works again", async () => {
    const browser = new Browser();
    const answer = await passwordSignIn(browser, gh.url, ADMIN.email, ADMIN.password);
    assert.equal(answer.status, 303);
    assert.equal((await me(browser)).email, ADMIN.email);
  });
});

describe("races", () => {
  test("two first sign-ins of one new user at once both succeed, with one account", async () => {
    const fresh = await startGatehouse();
    const freshIdp = await startIdp(fresh);
    try {
      const { organizationId: org } = await seedAcme(fresh);
      await connectAcme(fresh, freshIdp, org);
      const tabs = [new Browser(), new Browser()];
      const callbacks: string[] = [];
      for (const tab of tabs) {
        const start = await tab.get(`${fresh.url}/sso/start?email=bob@acme.test`);
        const back = await signInAtIdp(tab, start, freshIdp, "bob@acme.test", "bob-password", fresh.url);
        callbacks.push(back.location as string);
      }
      const answers = await Promise.all(tabs.map((tab, i) => tab.get(callbacks[i] as string)));
      assert.deepEqual(
        answers.map((a) => a.status),
        [303, 303],
      );
      const users = await fresh.ctx.store.db
        .selectFrom("users")
        .select("id")
        .where("email", "=", "bob@acme.test")
        .execute();
      assert.equal(users.length, 1);
      const identities = await fresh.ctx.store.db.selectFrom("identities").select("id").execute();
      assert.equal(identities.length, 1);
    } finally {
      await freshIdp.close();
      await fresh.close();
    }
  });
});
