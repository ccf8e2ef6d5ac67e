import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { browserTestOptions, launchBrowser, screenshot } from "../support/chromium.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

const ADMIN_EMAIL = "admin@acme.test";
const ADMIN_PASSWORD = "correct horse battery";

const options = browserTestOptions();

let gh: TestGatehouse | undefined;
let browser: Browser | undefined;
before(async () => {
  if (options.skip) return;
  gh = await startGatehouse({ port: await freePort() });
  await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await gh?.close();
});

interface Problems {
  console: string[];
  csp: string[];
  failed: string[];
}

/**
 * Collects what a person would not see but must not happen: console errors, uncaught
 * exceptions, Content-Security-Policy violations and failed or erroring sub-resources.
 */
async function watch(context: BrowserContext, page: Page): Promise<Problems> {
  const problems: Problems = { console: [], csp: [], failed: [] };
  // Init scripts are injected by the DevTools protocol, so the page's CSP does not block them.
  // Written as source text: these tests compile without the DOM's types.
  await context.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (event) => {
      console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
    });`,
  });
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = `${message.text()} (${message.location().url})`;
    if (/Content Security Policy|CSP violation/i.test(text)) problems.csp.push(text);
    else problems.console.push(text);
  });
  page.on("pageerror", (error) => problems.console.push(`uncaught: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.failed.push(`${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on("response", (response) => {
    if (response.request().resourceType() !== "document" && response.status() >= 400) {
      problems.failed.push(`${response.url()}: ${response.status()}`);
    }
  });
  return problems;
}

function assertClean(problems: Problems, where: string) {
  assert.deepEqual(problems.csp, [], `CSP violations on ${where}`);
  assert.deepEqual(problems.console, [], `console errors on ${where}`);
  assert.deepEqual(problems.failed, [], `failed sub-resources on ${where}`);
}

async function assertStyled(page: Page, where: string) {
  // A stylesheet the CSP blocked, or one that failed to load, leaves the page unstyled.
  const sheets = await page.evaluate("document.styleSheets.length");
  assert.ok(typeof sheets === "number" && sheets > 0, `${where} has its stylesheet`);
  assert.equal(await page.locator("[style]").count(), 0, `${where} has no inline style attributes`);
}

test(
  "an admin signs in with a password and walks Administration > Enterprise Authentication > Open ID Connect",
  options,
  async () => {
    assert.ok(gh && browser);
    const base = gh.url;
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
    try {
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
      const page = await context.newPage();
      const problems = await watch(context, page);

      await page.goto("/login");
      await assertStyled(page, "the sign-in page");
      await screenshot(page, "admin-walkthrough-01-login");
      await page.getByLabel("Work email").fill(ADMIN_EMAIL);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.waitForURL(`${base}/login`);
      await page.getByLabel("Password").fill(ADMIN_PASSWORD);
      await screenshot(page, "admin-walkthrough-02-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${base}/`);
      assert.equal(await page.locator('[data-field="email"]').textContent(), ADMIN_EMAIL);
      await screenshot(page, "admin-walkthrough-03-home");

      await page
        .getByRole("navigation", { name: "Main" })
        .getByRole("link", { name: "Administration" })
        .click();
      await page.waitForURL(`${base}/admin`);
      assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Administration");
      await assertStyled(page, "Administration");
      await screenshot(page, "admin-walkthrough-04-administration");

      await page
        .getByRole("link", { name: /Enterprise Authentication/ })
        .first()
        .click();
      await page.waitForURL(`${base}/admin/enterprise-authentication`);
      assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Enterprise Authentication");
      await assertBreadcrumbs(page, ["Administration"], "Enterprise Authentication");
      await screenshot(page, "admin-walkthrough-05-enterprise-authentication");

      const oidcTile = page.locator("section", {
        has: page.getByRole("heading", { name: "Open ID Connect" }),
      });
      await oidcTile.getByRole("link").first().click();
      await page.waitForURL(`${base}/admin/enterprise-authentication/oidc`);
      assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Open ID Connect");
      await assertBreadcrumbs(page, ["Administration", "Enterprise Authentication"], "Open ID Connect");
      await assertStyled(page, "Open ID Connect");

      // The Setup page shows the Callback URL, ready to copy, before anything is created.
      const callback = page.getByLabel("Callback URL", { exact: true });
      assert.equal(await callback.inputValue(), `${base}/sso/oidc/callback`);
      await page.getByRole("button", { name: "Copy Callback URL" }).click();
      assert.equal(await page.evaluate("navigator.clipboard.readText()"), `${base}/sso/oidc/callback`);
      await screenshot(page, "admin-walkthrough-06-open-id-connect");

      // The breadcrumb leads back up the same path.
      await page
        .getByRole("navigation", { name: "Breadcrumb" })
        .getByRole("link", { name: "Enterprise Authentication" })
        .click();
      await page.waitForURL(`${base}/admin/enterprise-authentication`);
      await page
        .getByRole("navigation", { name: "Breadcrumb" })
        .getByRole("link", { name: "Administration" })
        .click();
      await page.waitForURL(`${base}/admin`);

      assertClean(problems, "the walkthrough");
    } finally {
      await context.close();
    }
  },
);

async function assertBreadcrumbs(page: Page, links: string[], current: string) {
  const trail = page.getByRole("navigation", { name: "Breadcrumb" });
  for (const label of links) {
    assert.equal(
      await trail.getByRole("link", { name: label, exact: true }).count(),
      1,
      `breadcrumb ${label}`,
    );
  }
  assert.equal((await trail.locator('[aria-current="page"]').textContent())?.trim(), current);
}
