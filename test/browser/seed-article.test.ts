/**
 * The seed article, as a person does it, in real Chromium against the development IdP:
 * the admin connects Okta (here: the development IdP), Alice signs in through SSO, her
 * password and LinkedIn sign-ins point to SSO, sign-out passes through the IdP, and the
 * admin deletes the connection through the confirmation dialog.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser as Chromium, Page } from "playwright-core";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { browserTestOptions, launchBrowser, screenshot } from "../support/chromium.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme, startGatehouseWithIdp } from "../support/sso.js";

const options = browserTestOptions();
let gh: TestGatehouse;
let idp: DevIdp;
let chromium: Chromium;
const problems: string[] = [];

before(async () => {
  if (options.skip) return;
  ({ gh, idp } = await startGatehouseWithIdp());
  await seedAcme(gh);
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await idp?.close();
  await gh?.close();
});

async function newPage(): Promise<Page> {
  const context = await chromium.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gh.url });
  const page = await context.newPage();
  page.on("console", (message) => {
    // Chromium logs every 4xx document as "Failed to load resource"; the SSO-required pages are 403s by design.
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

async function signInAtIdp(page: Page, email: string, password: string) {
  await page.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button:has-text('Sign in')");
}

test("the seed article, end to end in a browser", options, async () => {
  // The admin signs in with a password.
  const admin = await newPage();
  await admin.goto(`${gh.url}/login`);
  await screenshot(admin, "article-01-login");
  await admin.fill("input[name=email]", ADMIN.email);
  await admin.click("button:has-text('Continue')");
  await admin.fill("input[name=password]", ADMIN.password);
  await screenshot(admin, "article-02-password");
  await admin.click("button:has-text('Sign in')");
  await admin.waitForURL(`${gh.url}/`);

  // Alice is half-way through a password sign-in when SSO gets switched on.
  const aliceTab = await newPage();
  await aliceTab.goto(`${gh.url}/login`);
  await aliceTab.fill("input[name=email]", "alice@acme.test");
  await aliceTab.click("button:has-text('Continue')");
  await aliceTab.waitForSelector("input[name=password]");

  // Administration > Enterprise Authentication > Open ID Connect.
  await admin.click("a:has-text('Administration')");
  await admin.waitForURL(`${gh.url}/admin`);
  await screenshot(admin, "article-03-administration");
  await admin.click("a:has-text('Enterprise Authentication')");
  await admin.waitForURL(`${gh.url}/admin/enterprise-authentication`);
  await screenshot(admin, "article-04-enterprise-authentication");
  await admin.click("a[href='/admin/enterprise-authentication/oidc']");
  await admin.waitForURL(`${gh.url}/admin/enterprise-authentication/oidc`);
  await screenshot(admin, "article-05-setup");

  // The Callback URL is on the page before anything exists, and the Copy button copies it.
  const callback = `${gh.url}/sso/oidc/callback`;
  const shown = await admin.$eval("#callback-url", (el) =>
    (el instanceof HTMLInputElement ? el.value : (el.textContent ?? "")).trim(),
  );
  assert.equal(shown, callback);
  await admin.click("button[data-copy='#callback-url']");
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), callback);

  await admin.fill("input[name=name]", "Acme Okta");
  await admin.fill("input[name=issuer]", idp.issuer);
  await admin.fill("input[name=clientId]", "gatehouse-okta");
  await admin.fill("input[name=clientSecret]", "gatehouse-okta-secret");
  await admin.fill("input[name=domains]", "acme.test");
  await admin.click("button:has-text('Create')");
  await admin.waitForSelector("[data-testid=connection-created]");
  assert.ok(!(await admin.content()).includes("gatehouse-okta-secret"), "the secret is never shown again");
  await screenshot(admin, "article-06-created");
  await admin.click("header button:has-text('Sign out')");
  await admin.waitForURL(`${gh.url}/`);

  // Alice's stale password form now answers with the SSO error.
  await aliceTab.fill("input[name=password]", "anything at all");
  await aliceTab.click("button:has-text('Sign in')");
  await aliceTab.waitForSelector("[data-error-code=AUTH_SSO_REQUIRED]");
  await screenshot(aliceTab, "article-07-password-refused");

  // Alice signs in through SSO at the development IdP and lands home.
  const alice = await newPage();
  await alice.goto(`${gh.url}/login`);
  await alice.fill("input[name=email]", "alice@acme.test");
  await alice.click("button:has-text('Continue')");
  await signInAtIdp(alice, "alice@acme.test", "alice-password");
  await screenshot(alice, "article-08-idp").catch(() => undefined);
  await alice.waitForURL(`${gh.url}/`);
  assert.equal(await alice.textContent("[data-field=email]"), "alice@acme.test");
  assert.match((await alice.textContent("[data-field=method]")) ?? "", /Single sign-on/);
  await screenshot(alice, "article-09-alice-home");

  // Sign-out passes through the IdP and lands home, signed out.
  await alice.click("header button:has-text('Sign out')");
  await alice.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await screenshot(alice, "article-10-idp-sign-out");
  await alice.click("button:has-text('Sign out')");
  await alice.waitForURL(`${gh.url}/`);
  assert.equal(await alice.$("[data-field=email]"), null);
  await screenshot(alice, "article-11-signed-out");

  // Her LinkedIn sign-in shows the SSO error.
  await alice.goto(`${gh.url}/login`);
  await alice.click("a:has-text('Continue with LinkedIn')");
  await signInAtIdp(alice, "alice@acme.test", "alice-password");
  await alice.waitForSelector("[data-error-code=AUTH_SSO_REQUIRED]");
  await screenshot(alice, "article-12-linkedin-refused");

  // The admin (at acme.test too) signs in through SSO and deletes the connection.
  const admin2 = await newPage();
  await admin2.goto(`${gh.url}/login`);
  await admin2.fill("input[name=email]", ADMIN.email);
  await admin2.click("button:has-text('Continue')");
  await signInAtIdp(admin2, ADMIN.email, "admin-password");
  await admin2.waitForURL(`${gh.url}/`);
  await admin2.goto(`${gh.url}/admin/enterprise-authentication/oidc`);
  await screenshot(admin2, "article-13-connection");
  await admin2.click("a:has-text('Delete connection')");
  await admin2.waitForSelector("dialog[open]");
  await screenshot(admin2, "article-14-delete-dialog");
  await admin2.click("dialog[open] [data-testid=confirm-delete]");
  await admin2.waitForSelector("form[action='/admin/enterprise-authentication/oidc'] input[name=issuer]");
  await screenshot(admin2, "article-15-deleted");

  assert.deepEqual(problems, [], "no console errors or CSP violations on Gatehouse's pages");
});
