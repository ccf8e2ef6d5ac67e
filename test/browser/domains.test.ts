import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../../src/dev-idp/server.js";
import { browserTestOptions, launchBrowser, screenshot } from "../support/chromium.js";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

/**
 * Administration > Enterprise Authentication > Domains and the Setup form's domain field in
 * Chromium, verifying through a real DNS server on loopback.
 */
const ADMIN_EMAIL = "admin@acme.test";
const ADMIN_PASSWORD = "correct horse battery";
const DOMAINS = "/admin/enterprise-authentication/domains";

const options = browserTestOptions();

let gh: TestGatehouse | undefined;
let dns: TestDnsServer | undefined;
let idp: DevIdp | undefined;
let browser: Browser | undefined;
before(async () => {
  if (options.skip) return;
  dns = await startDnsServer();
  gh = await startGatehouse({
    port: await freePort(),
    env: { GATEHOUSE_DNS_SERVERS: dns.address, GATEHOUSE_DNS_TIMEOUT_MS: "300" },
  });
  idp = await startDevIdp({ port: 0, ...demoIdpSetup(`${gh.url}/`) });
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
  await idp?.close();
  await gh?.close();
  await dns?.close();
});

async function signedIn(
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  assert.ok(gh && browser);
  const context = await browser.newContext({ baseURL: gh.url, viewport });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gh.url });
  const page = await context.newPage();
  page.on("pageerror", (error) => assert.fail(`uncaught on the page: ${error.message}`));
  await page.goto("/login");
  await page.getByLabel("Work email").fill(ADMIN_EMAIL);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${gh.url}/`);
  return { context, page };
}

function card(page: Page, domain: string) {
  return page.locator(`[data-testid=domain][data-domain="${domain}"]`);
}

async function addDomain(page: Page, domain: string) {
  await page.getByLabel("Domain", { exact: true }).fill(domain);
  await page.getByRole("button", { name: "Add domain" }).click();
}

test(
  "Domains: add (a refusal says why), see the record, verify with a wrong then a matching record, remove",
  options,
  async () => {
    assert.ok(gh && dns);
    const { context, page } = await signedIn();
    try {
      await page.goto("/admin/enterprise-authentication");
      await page.getByRole("link", { name: "Manage domains" }).click();
      await page.waitForURL(`${gh.url}${DOMAINS}`);
      assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Domains");

      await addDomain(page, "gmail.com");
      const refusal = page.getByTestId("add-domain-error");
      assert.match((await refusal.textContent()) ?? "", /gmail\.com is a public email provider/);
      assert.equal(await page.getByLabel("Domain", { exact: true }).inputValue(), "gmail.com");
      await screenshot(page, "domains-01-refused");

      await addDomain(page, "acme-corp.test");
      await page.getByTestId("domain-added").waitFor();
      const acme = card(page, "acme-corp.test");
      assert.equal(await acme.getAttribute("data-state"), "pending");
      assert.equal(await acme.getByTestId("domain-state").textContent(), "Pending verification");
      const name = await acme.getByRole("textbox", { name: "Name (host)" }).inputValue();
      const value = await acme.getByRole("textbox", { name: "Value" }).inputValue();
      assert.equal(name, "_gatehouse-challenge.acme-corp.test");
      assert.match(value, /^gatehouse-domain-verification=[A-Za-z0-9_-]{32,}$/);
      await acme.getByRole("button", { name: "Copy Value" }).click();
      assert.equal(await page.evaluate("navigator.clipboard.readText()"), value);
      await acme.getByRole("button", { name: "Copy Name (host)" }).click();
      assert.equal(await page.evaluate("navigator.clipboard.readText()"), name);
      await screenshot(page, "domains-02-pending");

      // Published with the zone appended twice, as some DNS consoles do.
      dns.set(name, { txt: [[`${value}.acme-corp.test`]] });
      await acme.getByRole("button", { name: "Verify" }).click();
      const mismatch = page.getByTestId("verify-outcome");
      assert.equal(await mismatch.getAttribute("data-outcome"), "mismatch");
      assert.equal(await page.getByTestId("found-records").textContent(), `${value}.acme-corp.test`);
      assert.equal(await card(page, "acme-corp.test").getAttribute("data-state"), "pending");
      await screenshot(page, "domains-03-mismatch");

      dns.set(name, { txt: [[value]] });
      await card(page, "acme-corp.test").getByRole("button", { name: "Verify" }).click();
      const verified = page.getByTestId("verify-outcome");
      assert.equal(await verified.getAttribute("data-outcome"), "verified");
      assert.match((await verified.textContent()) ?? "", /acme-corp\.test is verified\./);
      assert.equal(await card(page, "acme-corp.test").getByTestId("domain-state").textContent(), "Verified");
      assert.match(
        (await card(page, "acme-corp.test").locator("[data-field=last-check]").textContent()) ?? "",
        /UTC: record found$/,
      );
      await screenshot(page, "domains-04-verified");

      // Remove asks first, in a dialog; Cancel keeps the domain.
      await card(page, "acme-corp.test").getByTestId("remove-domain").click();
      const dialog = page.getByRole("dialog", { name: "Remove acme-corp.test" });
      await dialog.waitFor();
      assert.match(
        (await dialog.getByTestId("remove-consequence").textContent()) ?? "",
        /another organization may then verify it\./,
      );
      await screenshot(page, "domains-05-remove-dialog");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "hidden" });
      assert.equal(await card(page, "acme-corp.test").count(), 1);
      await card(page, "acme-corp.test").getByTestId("remove-domain").click();
      await dialog.getByRole("button", { name: "Remove" }).click();
      await page.getByTestId("domain-removed").waitFor();
      assert.equal(await card(page, "acme-corp.test").count(), 0);
      await screenshot(page, "domains-06-removed");
      dns.set(name, undefined);
    } finally {
      await context.close();
    }
  },
);

test("Domains at phone width: the record and its buttons fit the screen", options, async () => {
  assert.ok(gh);
  const { context, page } = await signedIn({ width: 390, height: 844 });
  try {
    await page.goto(DOMAINS);
    await addDomain(page, "bücher-phone.test");
    await page.getByTestId("domain-added").waitFor();
    const phone = card(page, "xn--bcher-phone-thb.test");
    assert.equal(await phone.locator("[data-field=domain-name]").textContent(), "bücher-phone.test");
    await screenshot(page, "domains-07-phone");
    const overflow = await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    assert.equal(overflow, 0, "no sideways scrolling");
    await phone.getByTestId("remove-domain").click();
    await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
    await page.getByTestId("domain-removed").waitFor();
  } finally {
    await context.close();
  }
});

test(
  "Setup form with a pending domain: Create says it starts once verified, and its Verify button verifies it",
  options,
  async () => {
    assert.ok(gh && dns && idp);
    const { context, page } = await signedIn();
    try {
      await page.goto(DOMAINS);
      await addDomain(page, "staff-corp.test");
      await page.getByTestId("domain-added").waitFor();

      await page.goto("/admin/enterprise-authentication/oidc");
      const choice = page.getByRole("checkbox", { name: /staff-corp\.test/ });
      assert.equal(await choice.isChecked(), false);
      assert.match((await page.getByTestId("domain-choices").textContent()) ?? "", /Pending verification/);
      await page.getByLabel("Connection name").fill("Acme Okta");
      await page.getByLabel("Issuer URL").fill(idp.issuer);
      await page.getByLabel("Client ID").fill("gatehouse-okta");
      await page.getByLabel("Client secret").fill("gatehouse-okta-secret");
      await choice.check();
      await page.getByLabel("Other domains").fill("eu.staff-corp.test");
      await screenshot(page, "domains-08-setup-form");
      await page.getByRole("button", { name: "Create" }).click();

      const created = page.getByTestId("connection-created");
      await created.waitFor();
      assert.match((await created.textContent()) ?? "", /has been created and enabled\./);
      assert.match(
        (await page.getByTestId("created-pending").textContent()) ?? "",
        /^eu\.staff-corp\.test and staff-corp\.test start working once verified\. .*Acme Okta signs no one in\.$/,
      );
      const pending = page.locator("[data-testid=pending-domain][data-domain='staff-corp.test']");
      const name = await pending.getByRole("textbox", { name: "Name (host)" }).inputValue();
      const value = await pending.getByRole("textbox", { name: "Value" }).inputValue();
      assert.equal(name, "_gatehouse-challenge.staff-corp.test");
      await screenshot(page, "domains-09-created-pending");

      dns.set(name, { txt: [[value]] });
      await pending.getByRole("button", { name: "Verify" }).click();
      await page.waitForURL(/\/domains\/[0-9a-f-]+\/verify$/);
      const outcome = page.getByTestId("verify-outcome");
      assert.equal(await outcome.getAttribute("data-outcome"), "verified");
      assert.match(
        (await outcome.textContent()) ?? "",
        /People at staff-corp\.test now sign in through Acme Okta/,
      );
      assert.equal(await card(page, "staff-corp.test").getAttribute("data-state"), "verified");
      assert.equal(await card(page, "eu.staff-corp.test").getAttribute("data-state"), "pending");
      assert.match(
        (await card(page, "staff-corp.test").locator("[data-field=connections]").textContent()) ?? "",
        /Acme Okta/,
      );
      await screenshot(page, "domains-10-verified-from-setup");
      dns.set(name, undefined);
    } finally {
      await context.close();
    }
  },
);
