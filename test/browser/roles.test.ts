/**
 * Roles from the provider in real Chromium: the admin writes a rule under Advanced settings,
 * runs a test sign-in as a person in that group and sees the groups, the rule and the role a
 * real sign-in would give; creates the connection; that person then signs in as an admin, and
 * /api/v1/me says so, with their given and family names.
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

test("role mapping: visible in the test sign-in's result and in /api/v1/me", options, async () => {
  const admin = await newPage();
  await admin.goto(`${gh.url}/login`);
  await admin.fill("input[name=email]", ADMIN.email);
  await admin.click("button:has-text('Continue')");
  await admin.fill("input[name=password]", ADMIN.password);
  await admin.click("button:has-text('Sign in')");
  await admin.waitForURL(`${gh.url}/`);
  await admin.goto(`${gh.url}/admin/enterprise-authentication/oidc`);

  await admin.fill("input[name=name]", "Acme Okta");
  await admin.fill("input[name=issuer]", idp.issuer);
  await admin.fill("input[name=clientId]", "gatehouse-okta");
  await admin.fill("input[name=clientSecret]", "gatehouse-okta-secret");
  await admin.check('input[name=knownDomains][value="acme.test"]');
  await admin.click("[data-testid=advanced-settings] summary");
  await admin.fill("input[name=extraScopes]", "groups");
  await admin.fill("textarea[name=roleRules]", "Engineering = admin\nEveryone = member");
  await screenshot(admin, "roles-01-advanced-settings");

  await admin.click("[data-testid=test-sign-in]");
  await admin.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await admin.fill("input[name=email]", "alice@acme.test");
  await admin.fill("input[name=password]", "alice-password");
  await admin.click("button:has-text('Sign in')");
  await admin.waitForSelector("[data-testid=test-outcome][data-outcome=success]");
  assert.equal(await admin.textContent("[data-field=role]"), "admin");
  assert.match((await admin.textContent("[data-testid=test-groups]")) ?? "", /Engineering/);
  assert.match((await admin.textContent("[data-testid=test-role-rule]")) ?? "", /Engineering = admin/);
  await screenshot(admin, "roles-02-test-result");

  await admin.click("[data-testid=create-from-test]");
  await admin.waitForSelector("[data-testid=connection-created]");
  assert.match((await admin.textContent("[data-field=role-rules]")) ?? "", /Engineering/);

  const alice = await newPage();
  await alice.goto(`${gh.url}/login`);
  await alice.fill("input[name=email]", "alice@acme.test");
  await alice.click("button:has-text('Continue')");
  await alice.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await alice.fill("input[name=email]", "alice@acme.test");
  await alice.fill("input[name=password]", "alice-password");
  await alice.click("button:has-text('Sign in')");
  await alice.waitForURL(`${gh.url}/`);
  const me = (await (await alice.request.get(`${gh.url}/api/v1/me`)).json()) as {
    role: string;
    user: { givenName: string | null; familyName: string | null };
  };
  assert.equal(me.role, "admin");
  assert.equal(me.user.givenName, "Alice");
  assert.equal(me.user.familyName, "Anderson");

  await admin.goto(`${gh.url}/admin/people`);
  await admin.waitForSelector('[data-email="alice@acme.test"][data-role="admin"]');
  await screenshot(admin, "roles-03-people");

  assert.deepEqual(problems, [], "no console errors or CSP violations on Gatehouse's pages");
});
