/**
 * Editing a connection in real Chromium: the admin rotates the client secret (as before an
 * Entra ID secret expires). The form is prefilled but for the secret; a wrong new secret is
 * refused beside its field with the provider's answer and nothing is saved; the right one is
 * saved, and people sign in with it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser as Chromium, Page } from "playwright-core";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { findConnectionById } from "../../src/store/connections.js";
import { oidcOf } from "../store/fixtures.js";
import { browserTestOptions, launchBrowser, screenshot, screenshotBetween } from "../support/chromium.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, startGatehouseWithIdp } from "../support/sso.js";

const options = browserTestOptions();
let gh: TestGatehouse;
let idp: DevIdp;
let chromium: Chromium;
let organizationId: string;
let connectionId: string;
const problems: string[] = [];

before(async () => {
  if (options.skip) return;
  ({ gh, idp } = await startGatehouseWithIdp());
  ({ organizationId } = await seedAcme(gh));
  connectionId = (await connectAcme(gh, idp, organizationId)).id;
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await idp?.close();
  await gh?.close();
});

async function newPage(): Promise<Page> {
  // A page taller than the form, so that pictures of it are not crossed by the sticky header.
  const context = await chromium.newContext({ viewport: { width: 1280, height: 2200 } });
  const page = await context.newPage();
  page.on("console", (message) => {
    // Chromium logs every 4xx document as "Failed to load resource"; a refused form is a 400 by design.
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

/** Email first, then the development IdP's sign-in page, back home. */
async function ssoSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${gh.url}/login`);
  await page.fill("input[name=email]", email);
  await page.click("button:has-text('Continue')");
  await page.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button:has-text('Sign in')");
  await page.waitForURL(`${gh.url}/`);
}

test(
  "edit with secret rotation: a wrong new secret is refused, the right one is saved and signs in",
  options,
  async () => {
    const admin = await newPage();
    await ssoSignIn(admin, "admin@acme.test", "admin-password");
    await admin.goto(`${gh.url}/admin/enterprise-authentication/oidc`);
    await admin.click("[data-testid=edit-connection]");
    await admin.waitForSelector("[data-testid=oidc-edit]");
    assert.equal(await admin.inputValue("input[name=name]"), "Acme Okta");
    assert.equal(await admin.inputValue("input[name=issuer]"), idp.issuer);
    assert.equal(await admin.inputValue("input[name=clientId]"), "gatehouse-okta");
    assert.equal(await admin.inputValue("input[name=clientSecret]"), "", "the secret is never shown");
    await screenshot(admin, "edit-connection-01-form");

    // The admin rotated the secret at the provider; the old one no longer works there.
    idp.setClientSecret("gatehouse-okta", "gatehouse-okta-secret-rotated");
    const before = await findConnectionById(gh.ctx.store.db, connectionId);

    // A typo in the new secret: refused beside the field, with the provider's answer.
    await admin.fill("input[name=clientSecret]", "gatehouse-okta-secret-rotatd");
    await admin.click("[data-testid=save-connection]");
    await admin.waitForSelector("#clientSecret-error");
    assert.match((await admin.textContent("#clientSecret-error")) ?? "", /refused.*invalid_client/);
    assert.equal(await admin.inputValue("input[name=clientSecret]"), "");
    const unchanged = await findConnectionById(gh.ctx.store.db, connectionId);
    assert.equal(unchanged?.updatedAt, before?.updatedAt, "nothing saved");
    assert.equal(oidcOf(unchanged).clientSecretSealed, oidcOf(before).clientSecretSealed);
    await screenshot(admin, "edit-connection-02-wrong-secret");
    await screenshotBetween(admin, "h1", "[data-testid=oidc-edit]", "readme-edit-wrong-secret");

    // The right one, and a clearer name while at it.
    await admin.fill("input[name=name]", "Acme Okta (production)");
    await admin.fill("input[name=clientSecret]", "gatehouse-okta-secret-rotated");
    await admin.click("[data-testid=save-connection]");
    await admin.waitForSelector("[data-testid=connection-updated]");
    assert.equal(await admin.textContent("[data-testid=changed-fields]"), "Connection name, Client secret");
    assert.ok(!(await admin.content()).includes("gatehouse-okta-secret-rotated"));
    await screenshot(admin, "edit-connection-03-saved");

    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      connectionId,
      type: "connection.updated",
      limit: 1,
    });
    assert.deepEqual(event?.detail?.changed, ["name", "clientSecret"]);
    assert.ok(!JSON.stringify(event).includes("rotated"), "the audit log never holds the secret");

    // A person signs in through the connection with the rotated secret.
    const alice = await newPage();
    await ssoSignIn(alice, "alice@acme.test", "alice-password");
    const me = (await (await alice.request.get(`${gh.url}/api/v1/me`)).json()) as {
      user: { email: string };
      connection: { name: string } | null;
    };
    assert.equal(me.user.email, "alice@acme.test");
    assert.equal(me.connection?.name, "Acme Okta (production)");

    assert.deepEqual(problems, [], "no console errors or CSP violations on Gatehouse's pages");
  },
);
