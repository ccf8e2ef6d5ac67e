/**
 * Two connections in one organization, in real Chromium: Okta for acme.test and Microsoft
 * Entra ID (a second development IdP) for acme-uk.test. The admin adds the second from the
 * first one's page; the Open ID Connect page then lists both, each with its own page; and a
 * sign-in is routed to the connection that owns the email's domain.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser as Chromium, Page } from "playwright-core";
import { type DevIdp, startDevIdp } from "../../src/dev-idp/server.js";
import { browserTestOptions, launchBrowser, screenshot, screenshotBetween } from "../support/chromium.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme, startGatehouseWithIdp } from "../support/sso.js";

const OIDC = "/admin/enterprise-authentication/oidc";
const options = browserTestOptions();
let gh: TestGatehouse;
let okta: DevIdp;
let entra: DevIdp;
let chromium: Chromium;
const problems: string[] = [];

before(async () => {
  if (options.skip) return;
  ({ gh, idp: okta } = await startGatehouseWithIdp());
  entra = await startDevIdp({
    port: 0,
    clients: [
      {
        clientId: "gatehouse-entra",
        clientSecret: "gatehouse-entra-secret",
        redirectUris: [`${gh.url}/sso/oidc/callback`],
        postLogoutRedirectUris: [`${gh.url}/`],
        clientName: "Gatehouse (enterprise SSO)",
        standsInFor: "Microsoft Entra ID",
      },
    ],
    users: [{ email: "uma@acme-uk.test", password: "uma-password", name: "Uma Underwood" }],
  });
  const { organizationId } = await seedAcme(gh);
  await verifyDomainsAsOperator(gh, organizationId, ["acme-uk.test"]);
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await entra?.close();
  await okta?.close();
  await gh?.close();
});

async function newPage(): Promise<Page> {
  const context = await chromium.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (
      message.type() === "error" &&
      page.url().startsWith(gh.url) &&
      !message.text().startsWith("Failed to load resource")
    ) {
      problems.push(`${page.url()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
  return page;
}

async function createFromSetup(
  page: Page,
  values: { name: string; issuer: string; clientId: string; secret: string; domain: string },
) {
  await page.fill("input[name=name]", values.name);
  await page.fill("input[name=issuer]", values.issuer);
  await page.fill("input[name=clientId]", values.clientId);
  await page.fill("input[name=clientSecret]", values.secret);
  await page.check(`input[name=knownDomains][value="${values.domain}"]`);
  await page.click("button:has-text('Create')");
  await page.waitForSelector("[data-testid=connection-created]");
}

/** Email first; returns the issuer the browser was sent to, after signing in there and coming back. */
async function signIn(email: string, password: string, idp: DevIdp) {
  const page = await newPage();
  await page.goto(`${gh.url}/login`);
  await page.fill("input[name=email]", email);
  await page.click("button:has-text('Continue')");
  await page.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button:has-text('Sign in')");
  await page.waitForURL(`${gh.url}/`);
  const me = (await (await page.request.get(`${gh.url}/api/v1/me`)).json()) as {
    user: { email: string };
    connection: { name: string } | null;
  };
  return { page, me };
}

test("two connections in one organization, each routing its own domain", options, async () => {
  const admin = await newPage();
  await admin.goto(`${gh.url}/login`);
  await admin.fill("input[name=email]", ADMIN.email);
  await admin.click("button:has-text('Continue')");
  await admin.fill("input[name=password]", ADMIN.password);
  await admin.click("button:has-text('Sign in')");
  await admin.waitForURL(`${gh.url}/`);

  await admin.goto(`${gh.url}${OIDC}`);
  await createFromSetup(admin, {
    name: "Acme Okta",
    issuer: okta.issuer,
    clientId: "gatehouse-okta",
    secret: "gatehouse-okta-secret",
    domain: "acme.test",
  });

  // From the first connection's page: add another.
  await admin.click("[data-testid=add-connection-link]");
  await admin.waitForURL(`${gh.url}${OIDC}/new`);
  await createFromSetup(admin, {
    name: "Acme UK Entra ID",
    issuer: entra.issuer,
    clientId: "gatehouse-entra",
    secret: "gatehouse-entra-secret",
    domain: "acme-uk.test",
  });
  assert.match(admin.url(), new RegExp(`${OIDC}/[0-9a-f-]{36}\\?created=1`), "the new connection's own page");
  assert.equal(await admin.textContent("[data-testid=oidc-connection] .section-title"), "Acme UK Entra ID");

  // The list: both, each opening its own page with its own actions.
  await admin.goto(`${gh.url}${OIDC}`);
  const rows = admin.locator("[data-testid=connection-row]");
  assert.equal(await rows.count(), 2);
  assert.deepEqual(
    await admin.locator("[data-testid=connection-row] [data-field=domains]").allTextContents(),
    ["acme.test", "acme-uk.test"],
  );
  await screenshot(admin, "two-connections-01-list");
  await screenshotBetween(admin, "h1", "[data-testid=add-connection]", "readme-several-connections");
  await admin.click("[data-testid=open-connection]:has-text('Acme UK Entra ID')");
  await admin.waitForSelector("[data-testid=oidc-connection]");
  for (const action of ["edit-connection", "test-sign-in", "disable-connection", "delete-connection"]) {
    assert.equal(await admin.locator(`[data-testid=${action}]`).count(), 1, action);
  }
  assert.match((await admin.textContent("[data-field=domains]")) ?? "", /acme-uk\.test/);
  await screenshot(admin, "two-connections-02-connection-page");

  // Routing by domain: each person goes to their own company's identity provider.
  const uk = await signIn("uma@acme-uk.test", "uma-password", entra);
  assert.equal(uk.me.user.email, "uma@acme-uk.test");
  assert.equal(uk.me.connection?.name, "Acme UK Entra ID");
  const us = await signIn("alice@acme.test", "alice-password", okta);
  assert.equal(us.me.connection?.name, "Acme Okta");

  // Each connection's page shows its own sign-in activity.
  await admin.reload();
  assert.match((await admin.textContent("[data-testid=sign-in-activity]")) ?? "", /uma@acme-uk\.test/);
  assert.doesNotMatch((await admin.textContent("[data-testid=sign-in-activity]")) ?? "", /alice@acme\.test/);

  assert.deepEqual(problems, [], "no console errors or CSP violations on Gatehouse's pages");
});
