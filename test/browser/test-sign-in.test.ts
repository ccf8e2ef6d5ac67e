/**
 * Test sign-in before Create, in real Chromium against the development IdP: a wrong secret is
 * caught by the credentials check before anything is saved; the right one goes through the
 * IdP and back to a result page with every check and the claims, and nobody is signed in;
 * then the admin creates the connection from the result.
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

async function count(table: "users" | "identities" | "sessions" | "connections"): Promise<number> {
  const db = gh.ctx.store.db;
  return Number((await db.selectFrom(table).select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
}

async function fillSetup(page: Page, secret: string) {
  await page.fill("input[name=name]", "Acme Okta");
  await page.fill("input[name=issuer]", idp.issuer);
  await page.fill("input[name=clientId]", "gatehouse-okta");
  await page.fill("input[name=clientSecret]", secret);
  await page.fill("input[name=domains]", "acme.test");
}

test(
  "test sign-in before Create: a wrong secret is caught, the right one shows the checks and claims",
  options,
  async () => {
    const admin = await newPage();
    await admin.goto(`${gh.url}/login`);
    await admin.fill("input[name=email]", ADMIN.email);
    await admin.click("button:has-text('Continue')");
    await admin.fill("input[name=password]", ADMIN.password);
    await admin.click("button:has-text('Sign in')");
    await admin.waitForURL(`${gh.url}/`);
    await admin.goto(`${gh.url}/admin/enterprise-authentication/oidc`);

    // A wrong secret: the credentials check at the token endpoint refuses it beside the field.
    await fillSetup(admin, "not-the-secret");
    await screenshot(admin, "test-sign-in-01-setup");
    await admin.click("[data-testid=test-sign-in]");
    await admin.waitForSelector("#clientSecret-error");
    assert.match((await admin.textContent("#clientSecret-error")) ?? "", /refused/);
    assert.equal(await count("connections"), 0, "nothing saved");
    assert.equal(
      Number(
        (
          await gh.ctx.store.db
            .selectFrom("connection_tests")
            .select(gh.ctx.store.db.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      ),
      0,
      "no test kept",
    );
    await screenshot(admin, "test-sign-in-02-wrong-secret");

    // The right secret: through the IdP and back to the result.
    const before = {
      users: await count("users"),
      identities: await count("identities"),
      sessions: await count("sessions"),
    };
    await fillSetup(admin, "gatehouse-okta-secret");
    await admin.click("[data-testid=test-sign-in]");
    await admin.waitForURL((url) => url.toString().startsWith(idp.issuer));
    await admin.fill("input[name=email]", "alice@acme.test");
    await admin.fill("input[name=password]", "alice-password");
    await admin.click("button:has-text('Sign in')");
    await admin.waitForSelector("[data-testid=test-outcome][data-outcome=success]");
    assert.equal(await admin.textContent("[data-field=email]"), "alice@acme.test");
    assert.equal(await admin.textContent("[data-field=organization]"), "Acme");
    assert.equal(await admin.textContent("[data-field=role]"), "member");
    assert.equal(await admin.locator("[data-testid=test-check][data-state=failed]").count(), 0);
    assert.ok((await admin.locator("[data-testid=test-check][data-state=passed]").count()) >= 12);
    assert.ok(await admin.isVisible("[data-testid=id-token-claims] [data-claim=sub]"));
    const shown = await admin.content();
    assert.ok(!shown.includes("gatehouse-okta-secret"), "the secret is never shown");
    assert.doesNotMatch(shown, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, "no token on the page");
    await screenshot(admin, "test-sign-in-03-result");
    assert.deepEqual(
      {
        users: await count("users"),
        identities: await count("identities"),
        sessions: await count("sessions"),
      },
      before,
      "no user, link or session",
    );
    assert.equal(await count("connections"), 0);

    // The admin is still the admin, and creates the connection from the result.
    await admin.click("[data-testid=create-from-test]");
    await admin.waitForSelector("[data-testid=connection-created]");
    assert.equal(await count("connections"), 1);
    await screenshot(admin, "test-sign-in-04-created");

    // On the saved connection's page: Test sign-in again, with its stored settings.
    await admin.click("[data-testid=oidc-connection] [data-testid=test-sign-in]");
    await admin.waitForSelector("[data-testid=test-outcome][data-outcome=success]");
    assert.match((await admin.textContent("[data-field=account]")) ?? "", /new user/);
    await screenshot(admin, "test-sign-in-05-saved-connection");

    assert.deepEqual(problems, [], "no console errors or CSP violations on Gatehouse's pages");
  },
);
