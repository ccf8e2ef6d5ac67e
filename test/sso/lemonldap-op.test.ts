/**
 * Interoperability with LemonLDAP::NG (Debian's 2.16 packages) as the OpenID Provider, over
 * real HTTP: discovery, the credentials check at Create, the authorization code flow through
 * the portal's own login form and consent screen (Demo backend: dwho, rtyler, msmith, password
 * = login), the token endpoint with client_secret_basic and client_secret_post, the RS256 ID
 * token, the claims that LemonLDAP::NG releases only at its userinfo endpoint, and sign-out
 * through its end_session_endpoint. The portal is at its defaults but for what
 * docs/providers/lemonldap-ng.md asks of a customer. CI installs the packages (.ci/run);
 * elsewhere the test skips when they are missing.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createConnection } from "../../src/connections/create.js";
import { updateConnection } from "../../src/connections/update.js";
import type { ConnectionInput } from "../../src/connections/validate.js";
import { errorSpec } from "../../src/error-registry.js";
import { isGatehouseError } from "../../src/errors.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { type Answer, Browser, csrfToken, errorCode } from "../support/browserless.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import {
  type LemonldapPortal,
  PORTAL_PACKAGES,
  portalAvailable,
  startLemonldapPortal,
} from "./lemonldap-op/portal.js";

const available = portalAvailable();
// CI installs the portal's packages, so there a missing one fails instead of skipping.
const skip = !available && !process.env.CI ? "LemonLDAP::NG's portal is not installed" : false;

const ORG_DOMAIN = "badwolf.org"; // the Demo backend's users are dwho@badwolf.org and so on
const HS512_DOMAIN = "hs512.badwolf.test";

let gh: TestGatehouse;
let portal: LemonldapPortal;
let organizationId: string;
let connectionId: string;
/** The users who were shown the portal's consent screen, in order. */
const consented: string[] = [];

interface Me {
  user: { id: string; email: string; name: string | null };
  signInMethod: string;
  connection: { id: string; name: string } | null;
}

before(async () => {
  if (skip) return;
  assert.ok(
    available,
    `LemonLDAP::NG's portal is missing: install ${PORTAL_PACKAGES.join(" ")} (.ci/run does)`,
  );
  gh = await startGatehouse();
  portal = await startLemonldapPortal({
    redirectUri: `${gh.url}/sso/oidc/callback`,
    postLogoutRedirectUri: `${gh.url}/`,
  });
  const { organization } = await createOrganizationWithAdmin(gh.ctx, {
    slug: "badwolf",
    name: "Bad Wolf",
    adminEmail: `admin@${ORG_DOMAIN}`,
    adminPassword: "correct horse battery staple",
  });
  organizationId = organization.id;
  await verifyDomainsAsOperator(gh, organizationId, [ORG_DOMAIN, HS512_DOMAIN]);
});

after(async () => {
  await portal?.close();
  await gh?.close();
});

function connectionInput(overrides: Partial<ConnectionInput> = {}): ConnectionInput {
  return {
    name: "Bad Wolf LemonLDAP",
    issuer: portal.issuer,
    clientId: portal.clients.gatehouse.clientId,
    clientSecret: portal.clients.gatehouse.clientSecret,
    domains: [ORG_DOMAIN],
    ...overrides,
  };
}

/**
 * From Gatehouse's redirect to the portal: follows to its login form, posts it with the form's
 * own hidden fields (its CSRF token among them), and stops at the redirect back to Gatehouse.
 */
async function signInAtPortal(
  browser: Browser,
  start: Answer,
  user: string,
  password: string,
): Promise<Answer> {
  assert.ok(
    start.location?.startsWith(`${portal.issuer}oauth2/authorize?`),
    `expected a redirect to the portal, got ${start.status} ${start.location ?? ""}: ${start.body.slice(0, 500)}`,
  );
  const backHome = (url: string) => url.startsWith(gh.url);
  let page = await browser.follow(start, backHome);
  if (page.location && backHome(page.location)) return page; // the portal already had a session
  assert.equal(page.status, 200, `the portal's login form expected, got ${page.status}\n${portal.output()}`);
  const fields = hiddenFields(page.body, "lform");
  assert.ok(fields.token, "the login form carries the portal's one-time token");
  // The form's action is "#": it posts back to the authorization request's own URL.
  page = await browser.post(page.url, { ...fields, user, password });
  page = await browser.follow(page, backHome);
  if (page.status === 200 && page.body.includes('class="oidc_consent_message"')) {
    // The portal asks each user once which claims Gatehouse may have (consent is not bypassed by default).
    consented.push(user);
    page = await browser.follow(await browser.post(page.url, hiddenFields(page.body, "form")), backHome);
  }
  assert.ok(
    page.location && backHome(page.location),
    `expected a redirect back to Gatehouse, got ${page.status} ${page.location ?? ""}\n${portal.output()}`,
  );
  return page;
}

/** The hidden inputs of one of the portal's forms, which it expects back as they are. */
function hiddenFields(html: string, formId: string): Record<string, string> {
  const form = new RegExp(`<form id="${formId}"[^>]*>([\\s\\S]*?)</form>`).exec(html)?.[1];
  assert.ok(form, `the portal's form #${formId} not found`);
  const fields: Record<string, string> = {};
  for (const [input] of form.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(input)?.[1];
    if (name) fields[name] = /\bvalue="([^"]*)"/.exec(input)?.[1] ?? "";
  }
  return fields;
}

/** Email-first sign-in through /login; returns Gatehouse's answer to the callback. */
async function signIn(browser: Browser, user: string, password = user): Promise<Answer> {
  const login = await browser.get(`${gh.url}/login`);
  const start = await browser.post(`${gh.url}/login`, {
    _csrf: csrfToken(login.body),
    email: `${user}@${ORG_DOMAIN}`,
  });
  const back = await signInAtPortal(browser, start, user, password);
  return browser.get(back.location as string);
}

async function me(browser: Browser): Promise<Me | undefined> {
  const answer = await browser.get(`${gh.url}/api/v1/me`);
  return answer.status === 200 ? (JSON.parse(answer.body) as Me) : undefined;
}

async function lastFailure(connection: string) {
  const [event] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    connectionId: connection,
    outcome: "failure",
    limit: 1,
  });
  return event;
}

describe("LemonLDAP::NG as the OpenID Provider", { skip }, () => {
  test("Create refuses a wrong client secret, quoting the portal's invalid_client", async () => {
    const refused = await createConnection(gh.ctx, {
      organizationId,
      input: connectionInput({ clientSecret: "not-the-secret" }),
      actorUserId: null,
    }).then(
      () => assert.fail("a wrong secret was accepted"),
      (error: unknown) => error,
    );
    assert.ok(isGatehouseError(refused), String(refused));
    assert.equal(refused.code, "VALIDATION_FAILED");
    assert.equal(errorSpec(refused.code).status, 400);
    assert.match(refused.fields?.clientSecret ?? "", /client_secret_basic: "HTTP 401: invalid_client"/);
    assert.match(refused.fields?.clientSecret ?? "", /client_secret_post: "HTTP 400: invalid_client"/);
  });

  test("the portal URL without its trailing slash is refused, naming the issuer to enter", async () => {
    const refused = await createConnection(gh.ctx, {
      organizationId,
      input: connectionInput({ issuer: portal.issuer.replace(/\/$/, "") }),
      actorUserId: null,
    }).then(
      () => assert.fail("an issuer other than the published one was accepted"),
      (error: unknown) => error,
    );
    assert.ok(isGatehouseError(refused), String(refused));
    assert.equal(refused.code, "SSO_ISSUER_MISMATCH");
    assert.equal(errorSpec(refused.code).status, 400);
    assert.equal(refused.fields?.issuer, `the provider calls itself "${portal.issuer}"; enter exactly that`);
  });

  test("Create reads the portal's discovery document and stores the method its token endpoint accepted", async () => {
    const { connection } = await createConnection(gh.ctx, {
      organizationId,
      input: connectionInput(),
      actorUserId: null,
    });
    assert.equal(connection.type, "oidc");
    assert.ok(connection.type === "oidc");
    assert.equal(connection.issuer, portal.issuer);
    assert.equal(connection.tokenEndpointAuthMethod, "client_secret_basic");
    connectionId = connection.id;
  });

  test("dwho signs in at the portal's login form and is provisioned from its userinfo claims", async () => {
    const browser = new Browser();
    const answer = await signIn(browser, "dwho");
    assert.equal(answer.status, 303, answer.body);
    assert.equal(answer.location, `${gh.url}/`);
    const dwho = await me(browser);
    assert.equal(dwho?.user.email, "dwho@badwolf.org");
    // LemonLDAP::NG puts no profile claims in the ID token by default: the name came from userinfo.
    assert.equal(dwho?.user.name, "Doctor Who");
    assert.equal(dwho?.signInMethod, "sso");
    assert.deepEqual(consented, ["dwho"]);
    assert.deepEqual(dwho?.connection, { id: connectionId, name: "Bad Wolf LemonLDAP" });
    const [identity] = await gh.ctx.store.db
      .selectFrom("identities")
      .select(["subject", "user_id"])
      .where("provider_key", "=", `connection:${connectionId}`)
      .execute();
    // The portal's subject is its whatToTrace attribute, the login (uid) by default.
    assert.deepEqual(identity, { subject: "dwho", user_id: dwho?.user.id });
  });

  test("a returning dwho is the same user; rtyler is another", async () => {
    const first = await me(await signedIn("dwho"));
    const again = await me(await signedIn("dwho"));
    const rtyler = await me(await signedIn("rtyler"));
    assert.ok(first && again && rtyler);
    assert.equal(again.user.id, first.user.id);
    assert.equal(rtyler.user.email, "rtyler@badwolf.org");
    assert.equal(rtyler.user.name, "Rose Tyler");
    assert.notEqual(rtyler.user.id, first.user.id);
    assert.deepEqual(consented, ["dwho", "rtyler"], "the portal remembered dwho's consent");
    const users = await gh.ctx.store.db
      .selectFrom("users")
      .select("email")
      .where("email", "like", `%@${ORG_DOMAIN}`)
      .orderBy("email")
      .execute();
    assert.deepEqual(
      users.map((u) => u.email),
      ["admin@badwolf.org", "dwho@badwolf.org", "rtyler@badwolf.org"],
    );
  });

  test("a second sign-in in the same browser reuses the portal's session without its form", async () => {
    const browser = await signedIn("msmith");
    const login = await browser.get(`${gh.url}/login`);
    const start = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(login.body),
      email: "msmith@badwolf.org",
    });
    const atPortal = await browser.get(start.location as string);
    const callback = redirectTo(atPortal, `${gh.url}/sso/oidc/callback?`); // straight back, with a code
    assert.equal((await browser.get(callback)).status, 303);
    assert.equal((await me(browser))?.user.email, "msmith@badwolf.org");
  });

  test("Sign in with another account sends prompt=login; LemonLDAP::NG answers it from its session (a quirk, pinned)", async () => {
    const browser = await signedIn("msmith");
    const start = await browser.get(`${gh.url}/sso/start?email=msmith%40badwolf.org&reauthenticate=1`);
    assert.equal(new URL(start.location ?? "").searchParams.get("prompt"), "login");
    // The portal does not show its login form again for a session it has just authenticated:
    // the refusal page's words (sign out at your identity provider first) are the way out there.
    const atPortal = await browser.get(start.location as string);
    const callback = redirectTo(atPortal, `${gh.url}/sso/oidc/callback?`);
    assert.equal((await browser.get(callback)).status, 303);
    assert.equal((await me(browser))?.user.email, "msmith@badwolf.org");
  });

  test("client_secret_post authenticates at the token endpoint as well", async () => {
    const { connection } = await updateConnection(
      gh.ctx,
      { organizationId, actorUserId: null },
      connectionId,
      {
        tokenEndpointAuthMethod: "client_secret_post",
      },
    );
    assert.ok(connection.type === "oidc");
    assert.equal(connection.tokenEndpointAuthMethod, "client_secret_post");
    const browser = new Browser();
    assert.equal((await signIn(browser, "rtyler")).status, 303);
    assert.equal((await me(browser))?.user.email, "rtyler@badwolf.org");
  });

  test("sign-out ends the portal's session too and comes back to the home page", async () => {
    const browser = await signedIn("dwho");
    const home = await browser.get(`${gh.url}/`);
    const out = await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal(out.status, 303);
    const endSession = redirectTo(out, `${portal.issuer}oauth2/logout?`);
    assert.equal(await me(browser), undefined, "signed out of Gatehouse before the portal is visited");
    // The portal asks before it signs out (oidcRPMetaDataOptionsLogoutBypassConfirm is off by default).
    const confirm = await browser.get(endSession);
    assert.equal(confirm.status, 200, `the portal's confirmation expected\n${portal.output()}`);
    const fields = hiddenFields(confirm.body, "form");
    assert.ok(fields.confirm, "the confirmation form carries its one-time value");
    const back = await browser.post(confirm.url, fields);
    await browser.get(redirectTo(back, `${gh.url}/?`));
    const [returned] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "sign_out.returned",
      limit: 1,
    });
    assert.equal(returned?.outcome, "success", "the portal sent back the state Gatehouse sent it");
    assert.equal(returned?.connectionId, connectionId);
    const again = await browser.get(`${gh.url}/sso/start?email=dwho%40badwolf.org`);
    const atPortal = await browser.follow(again, (url) => url.startsWith(gh.url));
    assert.equal(atPortal.status, 200, "the portal shows its login form: its session ended");
    assert.ok(hiddenFields(atPortal.body, "lform").token);
  });

  test("an ID token signed with HS512, the client secret as its key, is refused", async () => {
    const { connection } = await createConnection(gh.ctx, {
      organizationId,
      input: connectionInput({
        name: "Bad Wolf LemonLDAP HS512",
        clientId: portal.clients["gatehouse-hs512"].clientId,
        clientSecret: portal.clients["gatehouse-hs512"].clientSecret,
        domains: [HS512_DOMAIN],
      }),
      actorUserId: null,
    });
    const browser = new Browser();
    const start = await browser.get(
      `${gh.url}/sso/start?organization=badwolf&connection=${encodeURIComponent(connection.name)}`,
    );
    const back = await signInAtPortal(browser, start, "dwho", "dwho");
    const answer = await browser.get(back.location as string);
    assert.equal(errorCode(answer.body), "SSO_ID_TOKEN_INVALID");
    assert.equal(answer.status, errorSpec("SSO_ID_TOKEN_INVALID").status);
    assert.equal(await me(browser), undefined);
    const event = await lastFailure(connection.id);
    assert.equal(event?.reasonCode, "SSO_ID_TOKEN_INVALID");
    assert.equal(event?.detail?.check, "signature");
    assert.match(String(event?.detail?.detail), /HS512/);
  });

  test("a secret rotated at the portal fails the callback with SSO_TOKEN_REQUEST_FAILED, audited", async () => {
    await portal.rotateSecret("gatehouse", "rotated-at-the-portal");
    const browser = new Browser();
    const answer = await signIn(browser, "dwho");
    assert.equal(errorCode(answer.body), "SSO_TOKEN_REQUEST_FAILED");
    assert.ok(answer.status >= 400 && answer.status < 500, `a 4xx, got ${answer.status}`);
    assert.equal(answer.status, errorSpec("SSO_TOKEN_REQUEST_FAILED").status);
    assert.equal(await me(browser), undefined);
    const event = await lastFailure(connectionId);
    assert.equal(event?.reasonCode, "SSO_TOKEN_REQUEST_FAILED");
    assert.equal(event?.detail?.check, "token_request");
    assert.match(String(event?.detail?.detail), /invalid_client/);
    assert.ok(
      !JSON.stringify(event).includes(portal.clients.gatehouse.clientSecret),
      "no secret in the audit log",
    );
  });
});

function redirectTo(answer: Answer, prefix: string): string {
  const { location } = answer;
  if (!location?.startsWith(prefix)) {
    assert.fail(
      `expected a redirect to ${prefix}..., got ${answer.status} ${location ?? ""}\n${portal.output()}`,
    );
  }
  return location;
}

async function signedIn(user: string): Promise<Browser> {
  const browser = new Browser();
  const answer = await signIn(browser, user);
  assert.equal(answer.status, 303, answer.body);
  return browser;
}
