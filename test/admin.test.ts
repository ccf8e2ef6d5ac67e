import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { hashPassword } from "../src/crypto/password.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";
import { listAuditEvents } from "../src/store/audit.js";
import { listConnections } from "../src/store/connections.js";
import { insertMembership } from "../src/store/organizations.js";
import { insertUser, setPassword } from "../src/store/users.js";
import { type Answer, Browser, csrfToken, errorCode, passwordSignIn } from "./support/browserless.js";
import { verifyDomainsAsOperator } from "./support/domains.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";

const PASSWORD = "correct horse battery";
const OKTA_CLIENT_ID = "gatehouse-okta";
const OKTA_CLIENT_SECRET = "gatehouse-okta-secret";
const OIDC = "/admin/enterprise-authentication/oidc";
const adminPages = ["/admin", "/admin/enterprise-authentication", OIDC];

let gh: TestGatehouse;
let idp: DevIdp;

before(async () => {
  gh = await startGatehouse();
  idp = await startDevIdp({ port: 0, ...demoIdpSetup(`${gh.url}/`) });
});
after(async () => {
  await idp.close();
  await gh.close();
});

interface SignedInAdmin {
  browser: Browser;
  organizationId: string;
  email: string;
}

/** A fresh organization per test, so connections, names and domains never collide between tests. */
async function adminOf(slug: string): Promise<SignedInAdmin> {
  const email = `admin@${slug}.test`;
  const { organization } = await createOrganizationWithAdmin(gh.ctx, {
    slug,
    name: `${slug} Inc`,
    adminEmail: email,
    adminPassword: PASSWORD,
  });
  const browser = new Browser();
  const signedIn = await passwordSignIn(browser, gh.url, email, PASSWORD);
  assert.equal(signedIn.status, 303, "the admin signs in");
  return { browser, organizationId: organization.id, email };
}

async function userWithPassword(email: string, membership?: { organizationId: string; role: "member" }) {
  const now = gh.ctx.now();
  const user = await insertUser(gh.ctx.store.db, { email }, now);
  await setPassword(gh.ctx.store.db, user.id, await hashPassword(PASSWORD), now);
  if (membership) await insertMembership(gh.ctx.store.db, { ...membership, userId: user.id }, now);
  const browser = new Browser();
  assert.equal((await passwordSignIn(browser, gh.url, email, PASSWORD)).status, 303);
  return browser;
}

interface ConnectionForm {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  domains: string;
  tokenEndpointAuthMethod?: string;
  extraScopes?: string;
  emailClaim?: string;
  clockSkewSeconds?: string;
}

function validForm(slug: string, overrides: Partial<ConnectionForm> = {}): ConnectionForm {
  return {
    name: `${slug} Okta`,
    issuer: idp.issuer,
    clientId: OKTA_CLIENT_ID,
    clientSecret: OKTA_CLIENT_SECRET,
    // Not the admin's own domain, so the admin can keep signing in with a password.
    domains: `${slug}-staff.test`,
    ...overrides,
  };
}

async function submitSetup(browser: Browser, form: ConnectionForm): Promise<Answer> {
  const page = await browser.get(`${gh.url}${OIDC}`);
  assert.equal(page.status, 200);
  return browser.post(`${gh.url}${OIDC}`, { _csrf: csrfToken(page.body), ...form });
}

async function createThroughForm(admin: SignedInAdmin, form: ConnectionForm): Promise<string> {
  const answer = await submitSetup(admin.browser, form);
  assert.equal(answer.status, 303, `create answered ${answer.status} ${errorCode(answer.body) ?? ""}`);
  const [connection] = await listConnections(gh.ctx.store.db, admin.organizationId);
  assert.ok(connection);
  return connection.id;
}

/** The `field-error` paragraph of a form field, if any. */
function fieldError(body: string, name: string): string | undefined {
  return new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(body)?.[1];
}

function inputOf(body: string, name: string): string {
  const input = new RegExp(`<(?:input|select) id="field-${name}"[^>]*>`).exec(body)?.[0];
  assert.ok(input, `the form has a ${name} field`);
  return input;
}

describe("the admin guard", () => {
  test("a signed-out visitor is sent to sign-in and comes back to the page", async () => {
    const browser = new Browser();
    for (const path of adminPages) {
      const answer = await browser.get(`${gh.url}${path}`);
      assert.equal(answer.status, 303, path);
      assert.equal(answer.location, `${gh.url}/login?return_to=${encodeURIComponent(path)}`);
      assert.equal(answer.headers.get("cache-control"), "no-store");
    }

    await createOrganizationWithAdmin(gh.ctx, {
      slug: "returning",
      name: "Returning",
      adminEmail: "admin@returning.test",
      adminPassword: PASSWORD,
    });
    const login = await browser.get(`${gh.url}/login?return_to=${encodeURIComponent(OIDC)}`);
    const step = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(login.body),
      email: "admin@returning.test",
      return_to: OIDC,
    });
    const signedIn = await browser.post(`${gh.url}/login/password`, {
      _csrf: csrfToken(step.body),
      email: "admin@returning.test",
      password: PASSWORD,
      return_to: OIDC,
    });
    assert.equal(signedIn.location, `${gh.url}${OIDC}`);
  });

  test("a member is refused every admin page and the create form", async () => {
    const { organizationId } = await adminOf("membership");
    const member = await userWithPassword("member@membership.test", { organizationId, role: "member" });
    for (const path of adminPages) {
      const answer = await member.get(`${gh.url}${path}`);
      assert.equal(answer.status, 403, path);
      assert.equal(errorCode(answer.body), "AUTH_FORBIDDEN", path);
      assert.equal(answer.headers.get("cache-control"), "no-store");
    }
    const home = await member.get(`${gh.url}/`);
    const post = await member.post(`${gh.url}${OIDC}`, {
      _csrf: csrfToken(home.body),
      ...validForm("membership"),
    });
    assert.equal(post.status, 403);
    assert.equal(errorCode(post.body), "AUTH_FORBIDDEN");
    assert.equal((await listConnections(gh.ctx.store.db, organizationId)).length, 0);
  });

  test("a user without an organization is refused", async () => {
    const loner = await userWithPassword("loner@nowhere.test");
    const answer = await loner.get(`${gh.url}/admin`);
    assert.equal(answer.status, 403);
    assert.equal(errorCode(answer.body), "AUTH_FORBIDDEN");
  });
});

describe("Administration pages", () => {
  test("the overview shows the organization and the Enterprise Authentication state", async () => {
    const { browser } = await adminOf("overview");
    const page = await browser.get(`${gh.url}/admin`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("cache-control"), "no-store");
    assert.match(page.body, /<dd data-field="organization-name">overview Inc<\/dd>/);
    assert.match(page.body, /<code>overview<\/code>/);
    assert.match(page.body, /<dd data-field="user-count">1<\/dd>/);
    assert.match(page.body, /href="\/admin\/enterprise-authentication"/);
    assert.match(page.body, /data-state="not-connected"/);
  });

  test("the overview shows the state of Open ID Connect and of SAML 2.0", async () => {
    const admin = await adminOf("overviewstates");
    const states = async () => {
      const page = await admin.browser.get(`${gh.url}/admin`);
      return [...page.body.matchAll(/<li data-integration="(\w+)" data-state="([\w-]+)">([^<]*)</g)].map(
        ([, key, state, label]) => [key, state, label?.trim()],
      );
    };
    assert.deepEqual(await states(), [
      ["oidc", "not-connected", "Open ID Connect"],
      ["saml", "not-connected", "SAML 2.0"],
    ]);
    await createThroughForm(admin, validForm("overviewstates"));
    // Enabled, but its domain is not verified: nobody signs in through it yet, and it says so.
    assert.deepEqual(await states(), [
      ["oidc", "waiting", "Open ID Connect"],
      ["saml", "not-connected", "SAML 2.0"],
    ]);
    assert.match(
      (await admin.browser.get(`${gh.url}/admin`)).body,
      /<span class="badge badge-warning">Enabled, no verified domain yet<\/span>/,
    );
    await verifyDomainsAsOperator(gh, admin.organizationId, ["overviewstates-staff.test"]);
    assert.deepEqual(await states(), [
      ["oidc", "enabled", "Open ID Connect"],
      ["saml", "not-connected", "SAML 2.0"],
    ]);
  });

  test("the organization's sign-in link is offered only once an enabled connection serves a verified domain", async () => {
    const admin = await adminOf("signinlink");
    const overview = async () => (await admin.browser.get(`${gh.url}/admin`)).body;
    const link = (body: string) => /id="sign-in-url" type="text" value="([^"]+)"/.exec(body)?.[1];

    const alone = await overview();
    assert.equal(
      link(alone),
      undefined,
      "no connection: the link would lead to 'no single sign-on is set up'",
    );
    assert.match(alone, /data-testid="sign-in-link-hint"/);

    await createThroughForm(admin, validForm("signinlink"));
    const unverified = await overview();
    assert.equal(link(unverified), undefined, "its domain is not verified: the link would route nowhere");
    assert.match(unverified, /data-testid="sign-in-link-hint"/);

    await verifyDomainsAsOperator(gh, admin.organizationId, ["signinlink-staff.test"]);
    const routed = await overview();
    assert.equal(link(routed), `${gh.url}/sso/start?organization=signinlink`);
    assert.doesNotMatch(routed, /data-testid="sign-in-link-hint"/);
    const start = await new Browser().get(link(routed) ?? "");
    assert.equal(start.status, 302, "the link starts single sign-on");
    assert.ok(start.location?.startsWith(idp.issuer));
  });

  test("the introduction offers Open ID Connect and SAML 2.0, each with its own state", async () => {
    const admin = await adminOf("intro");
    const before = await admin.browser.get(`${gh.url}/admin/enterprise-authentication`);
    assert.equal(before.status, 200);
    assert.match(before.body, /data-integration="oidc" data-state="not-connected"/);
    assert.match(before.body, /href="\/admin\/enterprise-authentication\/oidc">Connect<\/a>/);
    const saml = /<section[^>]*data-integration="saml"[\s\S]*?<\/section>/.exec(before.body)?.[0];
    assert.ok(saml);
    assert.match(saml, /data-state="not-connected"/);
    assert.match(saml, /href="\/admin\/enterprise-authentication\/saml"[^>]*>Connect<\/a>/);
    assert.match(before.body, /<a href="\/admin">Administration<\/a>/);

    await createThroughForm(admin, validForm("intro"));
    await verifyDomainsAsOperator(gh, admin.organizationId, ["intro-staff.test"]);
    const after = await admin.browser.get(`${gh.url}/admin/enterprise-authentication`);
    assert.match(after.body, /data-integration="oidc" data-state="enabled"/);
    assert.match(after.body, />Manage<\/a>/);
    assert.match(
      after.body,
      /data-integration="saml" data-state="not-connected"/,
      "an OIDC connection is not SAML's",
    );
  });
});

describe("times", () => {
  /** `2026-12-07 15:49 UTC`, as the Domains page writes it: never `Mon, 07 Dec 2026 15:49:06 GMT`. */
  const oneFormat =
    /<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/;

  test("the connection page and the home page write a time as YYYY-MM-DD HH:MM UTC", async () => {
    const admin = await adminOf("times");
    const id = await createThroughForm(admin, validForm("times"));
    const connection = await admin.browser.get(`${gh.url}${OIDC}/${id}`);
    assert.equal(connection.status, 200);
    const created = /<dd data-field="created">([\s\S]*?)<\/dd>/.exec(connection.body)?.[1];
    assert.match(created ?? "", oneFormat);
    const home = await admin.browser.get(`${gh.url}/`);
    const expires = /<dd data-field="session-expires">([\s\S]*?)<\/dd>/.exec(home.body)?.[1];
    assert.match(expires ?? "", oneFormat);
    for (const page of [connection.body, home.body]) assert.doesNotMatch(page, / GMT\b/);
  });
});

describe("the Open ID Connect Setup page", () => {
  test("shows the Callback URL and the home page to copy before anything exists", async () => {
    const { browser } = await adminOf("setup");
    const page = await browser.get(`${gh.url}${OIDC}`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("cache-control"), "no-store");
    assert.match(
      page.body,
      new RegExp(`<input id="callback-url" type="text" value="${gh.url}/sso/oidc/callback"`),
    );
    assert.match(page.body, /data-copy="#callback-url"/);
    assert.match(page.body, new RegExp(`<input id="home-url" type="text" value="${gh.url}/"`));
    for (const name of ["name", "issuer", "clientId", "clientSecret", "domains"]) {
      assert.match(page.body, new RegExp(`<label for="field-${name}">`), name);
      inputOf(page.body, name);
    }
    assert.match(inputOf(page.body, "clientSecret"), /type="password"/);
    assert.match(inputOf(page.body, "clientSecret"), /autocomplete="off"/);
    assert.match(page.body, /<button type="submit" class="btn btn-primary">Create<\/button>/);
  });

  test("creating a connection confirms it and the connection page never shows the secret", async () => {
    const admin = await adminOf("creator");
    const answer = await submitSetup(admin.browser, validForm("creator"));
    assert.equal(answer.status, 303);
    assert.equal(answer.location, `${gh.url}${OIDC}?created=1`);

    const page = await admin.browser.get(answer.location);
    assert.equal(page.status, 200);
    assert.match(page.body, /data-testid="connection-created"/);
    assert.match(page.body, /The connection creator Okta has been created and enabled\./);
    assert.match(page.body, /<span class="badge badge-success" data-status="enabled">Enabled<\/span>/);
    assert.match(page.body, new RegExp(`<code>${idp.issuer}</code>`));
    assert.match(page.body, /<code>gatehouse-okta<\/code>/);
    assert.match(page.body, /••••••••/);
    assert.match(page.body, /creator-staff\.test/);
    assert.match(page.body, /client_secret_basic/);
    assert.match(page.body, /<code>openid email profile<\/code>/);
    assert.match(page.body, new RegExp(`value="${gh.url}/sso/oidc/callback"`));
    assert.doesNotMatch(page.body, new RegExp(OKTA_CLIENT_SECRET));
    assert.doesNotMatch(page.body, /name="clientSecret"/, "the Setup form is gone");
    assert.ok(!gh.logs.join("").includes(OKTA_CLIENT_SECRET), "the secret is never logged");

    const plain = await admin.browser.get(`${gh.url}${OIDC}`);
    assert.doesNotMatch(plain.body, /data-testid="connection-created"/);
    const spoofed = await admin.browser.get(`${gh.url}${OIDC}?deleted=1`);
    assert.doesNotMatch(spoofed.body, /data-testid="connection-deleted"/, "nothing was deleted");
  });

  test("creating a connection for the admin's own domain keeps the admin's session and ends the others", async () => {
    const admin = await adminOf("ownsso");
    await verifyDomainsAsOperator(gh, admin.organizationId, ["ownsso.test"]);
    const otherDevice = new Browser();
    await passwordSignIn(otherDevice, gh.url, admin.email, PASSWORD);
    const answer = await submitSetup(admin.browser, validForm("ownsso", { domains: "ownsso.test" }));
    assert.equal(answer.location, `${gh.url}${OIDC}?created=1&signed_out=1`);

    const page = await admin.browser.get(answer.location);
    assert.equal(page.status, 200, "the creator is still signed in");
    assert.match(page.body, /1 session was signed out/);
    const other = await otherDevice.get(`${gh.url}/admin`);
    assert.equal(other.status, 303, "the other password session ended");
  });

  test("connection values are escaped on every page", async () => {
    const admin = await adminOf("escaping");
    await createThroughForm(admin, validForm("escaping", { name: `<img src=x onerror="alert(1)"> & Co` }));
    const page = await admin.browser.get(`${gh.url}${OIDC}?created=1&signed_out=%3Cb%3E`);
    assert.doesNotMatch(page.body, /<img src=x/);
    assert.doesNotMatch(page.body, /signed out/, "only a number passes through signed_out");
    assert.match(page.body, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt; &amp; Co/);
  });

  test("missing fields each get their own error", async () => {
    const { browser } = await adminOf("missing");
    const answer = await submitSetup(browser, {
      name: "",
      issuer: "",
      clientId: "",
      clientSecret: "",
      domains: "",
    });
    assert.equal(answer.status, 400);
    assert.equal(errorCode(answer.body), "VALIDATION_FAILED");
    assert.match(answer.body, /class="alert alert-error"/);
    for (const name of ["name", "issuer", "clientId", "clientSecret", "domains"]) {
      assert.ok(fieldError(answer.body, name), `${name} has an error`);
      const input = inputOf(answer.body, name);
      assert.match(input, /aria-invalid="true"/, name);
      assert.match(input, new RegExp(`aria-describedby="[^"]*${name}-error`), name);
    }
    assert.match(answer.body, /<div class="field has-error">\s*<label for="field-issuer">/);
  });

  test("a refused form keeps the values but never the client secret", async () => {
    const { browser } = await adminOf("keeps");
    const answer = await submitSetup(
      browser,
      validForm("keeps", { domains: "localhost", clientSecret: "keeps-very-secret-value" }),
    );
    assert.equal(answer.status, 400);
    assert.ok(fieldError(answer.body, "domains"));
    assert.match(inputOf(answer.body, "name"), /value="keeps Okta"/);
    assert.match(inputOf(answer.body, "issuer"), new RegExp(`value="${idp.issuer}"`));
    assert.match(inputOf(answer.body, "domains"), /value="localhost"/);
    assert.match(inputOf(answer.body, "clientSecret"), /value=""/);
    assert.doesNotMatch(answer.body, /keeps-very-secret-value/);
    assert.match(answer.body, /Enter the client secret again/);
  });

  test("an issuer that is not a URL is explained under Issuer URL", async () => {
    const { browser } = await adminOf("notaurl");
    const answer = await submitSetup(browser, validForm("notaurl", { issuer: "acme okta" }));
    assert.equal(answer.status, 400);
    assert.equal(errorCode(answer.body), "VALIDATION_FAILED");
    assert.ok(fieldError(answer.body, "issuer"));
    assert.equal(fieldError(answer.body, "name"), undefined);
  });

  test("an issuer whose discovery fails is explained under Issuer URL, not a server error", async () => {
    const { browser, organizationId } = await adminOf("nodiscovery");
    for (const issuer of ["http://127.0.0.1:1", `${idp.issuer}/nope`]) {
      const answer = await submitSetup(browser, validForm("nodiscovery", { issuer }));
      assert.equal(answer.status, 400, issuer);
      assert.equal(errorCode(answer.body), "SSO_DISCOVERY_FAILED", issuer);
      assert.ok(fieldError(answer.body, "issuer"), issuer);
    }
    assert.equal((await listConnections(gh.ctx.store.db, organizationId)).length, 0);
  });

  test("an issuer with a trailing slash added does not match the one the provider publishes", async () => {
    const { browser } = await adminOf("slash");
    const answer = await submitSetup(browser, validForm("slash", { issuer: `${idp.issuer}/` }));
    assert.equal(answer.status, 400);
    assert.equal(errorCode(answer.body), "SSO_ISSUER_MISMATCH");
    assert.ok(fieldError(answer.body, "issuer"));
  });

  test("a connection name taken in another organization, in any case, is a conflict", async () => {
    const first = await adminOf("namefirst");
    await createThroughForm(first, validForm("namefirst", { name: "Shared Okta" }));
    const second = await adminOf("namesecond");
    const answer = await submitSetup(second.browser, validForm("namesecond", { name: "shared OKTA" }));
    assert.equal(answer.status, 409);
    assert.equal(errorCode(answer.body), "CONFLICT");
    assert.ok(fieldError(answer.body, "name"));
    assert.equal(fieldError(answer.body, "domains"), undefined);
  });

  test("a domain verified by another organization is a conflict", async () => {
    const first = await adminOf("domainfirst");
    await verifyDomainsAsOperator(gh, first.organizationId, ["claimed.test"]);
    await createThroughForm(first, validForm("domainfirst", { domains: "claimed.test" }));
    const second = await adminOf("domainsecond");
    const answer = await submitSetup(
      second.browser,
      validForm("domainsecond", { domains: "domainsecond-staff.test, CLAIMED.test" }),
    );
    assert.equal(answer.status, 409);
    assert.equal(errorCode(answer.body), "CONFLICT");
    assert.ok(fieldError(answer.body, "domains"));
    assert.equal((await listConnections(gh.ctx.store.db, second.organizationId)).length, 0);
  });

  test("advanced settings are kept on the connection", async () => {
    const admin = await adminOf("advanced");
    await createThroughForm(admin, {
      ...validForm("advanced"),
      tokenEndpointAuthMethod: "client_secret_post",
      extraScopes: "groups",
      emailClaim: "preferred_username",
      clockSkewSeconds: "30",
    });
    const page = await admin.browser.get(`${gh.url}${OIDC}`);
    assert.match(page.body, /client_secret_post/);
    assert.match(page.body, /<code>openid email profile groups<\/code>/);
    assert.match(page.body, /<code>preferred_username<\/code>/);
    assert.match(page.body, /30 seconds/);
  });

  test("a refused advanced setting opens Advanced settings with the error beside it", async () => {
    const { browser } = await adminOf("advbad");
    const skew = await submitSetup(browser, { ...validForm("advbad"), clockSkewSeconds: "a minute" });
    assert.equal(skew.status, 400);
    assert.ok(fieldError(skew.body, "clockSkewSeconds"));
    assert.match(skew.body, /<details class="advanced" data-testid="advanced-settings" open>/);
    assert.match(inputOf(skew.body, "clockSkewSeconds"), /value="a minute"/);

    // The development IdP accepts client secrets only.
    const jwt = await submitSetup(browser, {
      ...validForm("advbad"),
      clientSecret: "",
      tokenEndpointAuthMethod: "private_key_jwt",
    });
    assert.equal(jwt.status, 400);
    assert.ok(fieldError(jwt.body, "tokenEndpointAuthMethod"));
    assert.match(jwt.body, /<option value="private_key_jwt" selected>/);

    const tampered = await submitSetup(browser, { ...validForm("advbad"), tokenEndpointAuthMethod: "none" });
    assert.equal(tampered.status, 400);
    assert.equal(errorCode(tampered.body), "REQUEST_INVALID");
  });

  test("a create without the CSRF token is refused and creates nothing", async () => {
    const { browser, organizationId } = await adminOf("nocsrf");
    const answer = await browser.post(`${gh.url}${OIDC}`, { ...validForm("nocsrf") });
    assert.equal(answer.status, 403);
    assert.equal(errorCode(answer.body), "CSRF_INVALID");
    const forged = await browser.post(`${gh.url}${OIDC}`, { _csrf: "forged", ...validForm("nocsrf") });
    assert.equal(errorCode(forged.body), "CSRF_INVALID");
    assert.equal((await listConnections(gh.ctx.store.db, organizationId)).length, 0);
  });
});

describe("deleting a connection", () => {
  test("the confirmation page deletes it and the Setup page comes back", async () => {
    const admin = await adminOf("deleter");
    const id = await createThroughForm(admin, validForm("deleter"));
    const deletePath = `${OIDC}/${id}/delete`;

    const page = await admin.browser.get(`${gh.url}${OIDC}`);
    assert.match(page.body, /class="danger-zone"/);
    assert.match(page.body, new RegExp(`href="${deletePath}" data-dialog="#delete-dialog-${id}"`));
    const dialog = new RegExp(`<dialog class="dialog" id="delete-dialog-${id}"[\\s\\S]*?</dialog>`).exec(
      page.body,
    )?.[0];
    assert.ok(dialog, "the page carries the dialog");
    assert.match(dialog, new RegExp(`<form method="post" action="${deletePath}"`));
    assert.match(dialog, /name="_csrf"/);
    assert.match(dialog, /value="cancel" formmethod="dialog"/);
    assert.match(dialog, /class="btn btn-danger" data-testid="confirm-delete"/);

    const confirm = await admin.browser.get(`${gh.url}${deletePath}`);
    assert.equal(confirm.status, 200);
    assert.match(
      confirm.body,
      /Delete deleter Okta\? No one in your organization has an address at deleter-staff\.test yet\./,
    );
    const deleted = await admin.browser.post(`${gh.url}${deletePath}`, { _csrf: csrfToken(confirm.body) });
    assert.equal(deleted.status, 303);
    assert.equal(deleted.location, `${gh.url}${OIDC}?deleted=1`);

    const after = await admin.browser.get(deleted.location);
    assert.equal(after.status, 200);
    assert.match(after.body, /class="alert alert-success"/);
    assert.match(after.body, /The connection deleter Okta was deleted\./);
    assert.match(after.body, /id="callback-url"/);
    assert.match(after.body, /name="clientSecret"/);
    assert.equal((await listConnections(gh.ctx.store.db, admin.organizationId)).length, 0);

    const intro = await admin.browser.get(`${gh.url}/admin/enterprise-authentication`);
    assert.match(intro.body, />Connect<\/a>/);

    const events = await listAuditEvents(gh.ctx.store.db, {
      organizationId: admin.organizationId,
      type: "connection.deleted",
      limit: 10,
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.connectionId, id);
  });

  test("a delete without the CSRF token is refused", async () => {
    const admin = await adminOf("deletecsrf");
    const id = await createThroughForm(admin, validForm("deletecsrf"));
    const answer = await admin.browser.post(`${gh.url}${OIDC}/${id}/delete`, {});
    assert.equal(answer.status, 403);
    assert.equal(errorCode(answer.body), "CSRF_INVALID");
    assert.equal((await listConnections(gh.ctx.store.db, admin.organizationId)).length, 1);
  });

  test("another organization's connection cannot be deleted or even seen", async () => {
    const owner = await adminOf("victim");
    const id = await createThroughForm(owner, validForm("victim"));
    const intruder = await adminOf("intruder");

    const confirm = await intruder.browser.get(`${gh.url}${OIDC}/${id}/delete`);
    assert.equal(confirm.status, 404);
    assert.equal(errorCode(confirm.body), "CONNECTION_NOT_FOUND");
    const ownPage = await intruder.browser.get(`${gh.url}${OIDC}`);
    const attempt = await intruder.browser.post(`${gh.url}${OIDC}/${id}/delete`, {
      _csrf: csrfToken(ownPage.body),
    });
    assert.equal(attempt.status, 404);
    assert.equal(errorCode(attempt.body), "CONNECTION_NOT_FOUND");
    assert.equal((await listConnections(gh.ctx.store.db, owner.organizationId)).length, 1);

    for (const bad of ["not-a-uuid", "..%2F..%2Fadmin", id.toUpperCase()]) {
      const answer = await intruder.browser.get(`${gh.url}${OIDC}/${bad}/delete`);
      assert.equal(answer.status, 404, bad);
      assert.equal(errorCode(answer.body), "CONNECTION_NOT_FOUND", bad);
    }
  });
});
