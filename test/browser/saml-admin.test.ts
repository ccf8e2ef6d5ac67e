/**
 * Administration > Enterprise Authentication > SAML 2.0 in real Chromium, on a desktop and a
 * phone: the ACS URL, SP Entity ID and SP metadata URL are there to copy before anything is
 * created; a metadata document that is not SAML metadata is refused beside its field with the
 * same values to copy; the IdP's metadata URL creates the connection, whose page shows the IdP,
 * its certificate, and the very URLs the admin copied.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { listConnections } from "../../src/store/connections.js";
import { createTestIdp, type TestIdp } from "../saml/hostile-idp.js";
import { browserTestOptions, launchBrowser, screenshot, screenshotBetween } from "../support/chromium.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";

const options = browserTestOptions();
let gh: TestGatehouse;
let chromium: Browser;
let organizationId: string;
let idp: TestIdp;
let server: Server;
let metadataUrl: string;
const problems: string[] = [];

before(async () => {
  if (options.skip) return;
  gh = await startGatehouse();
  ({ organizationId } = await seedAcme(gh));
  idp = await createTestIdp("https://adfs.acme.test/adfs/services/trust");
  server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/samlmetadata+xml" });
    response.end(idp.metadataXml());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  metadataUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/FederationMetadata/2007-06/FederationMetadata.xml`;
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
  await gh?.close();
});

async function signedIn(viewport: { width: number; height: number }): Promise<Page> {
  const context = await chromium.newContext({ baseURL: gh.url, viewport });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gh.url });
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    // A refused form is a 400 by design; Chromium logs it as a failed resource.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`${page.url()}: ${message.text()}`);
    }
  });
  await page.goto("/login");
  await page.getByLabel("Work email").fill(ADMIN.email);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${gh.url}/`);
  return page;
}

/** The page is no wider than the screen: nothing to scroll sideways on a phone. */
async function assertNoSidewaysScroll(page: Page): Promise<void> {
  const [scroll, width] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  const widest = await page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(-3)
      .map(
        (e) =>
          `${e.tagName}.${e.className}#${e.id} "${e.textContent?.slice(0, 40)}" ${Math.round(e.getBoundingClientRect().right)}`,
      ),
  );
  assert.ok(scroll <= width, `the page is ${scroll}px wide on a ${width}px screen: ${widest.join(", ")}`);
}

test(
  "SAML 2.0: values to copy before creation, a refused metadata, a created connection",
  options,
  async () => {
    const page = await signedIn({ width: 1280, height: 1000 });
    await page.goto("/admin/enterprise-authentication");
    await page.getByTestId("saml-tile-link").click();
    await page.waitForSelector("[data-testid=saml-sp-values]");

    // Before anything exists: the three values, each with a Copy button that copies it.
    const acsUrl = await page.inputValue("#acs-url");
    const entityId = await page.inputValue("#sp-entity-id");
    assert.match(acsUrl, new RegExp(`^${gh.url}/sso/saml/[0-9a-f-]{36}/acs$`));
    assert.equal(entityId, acsUrl.replace(/\/acs$/, "/metadata"));
    assert.equal(await page.inputValue("#sp-metadata-url"), entityId);
    for (const id of ["acs-url", "sp-entity-id", "sp-metadata-url"]) {
      assert.ok(await page.locator(`button[data-copy="#${id}"]`).isVisible(), `${id} has a Copy button`);
    }
    await page.locator('button[data-copy="#acs-url"]').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), acsUrl);
    assert.equal((await listConnections(gh.ctx.store.db, organizationId)).length, 0, "nothing stored yet");
    await screenshot(page, "saml-admin-01-setup");
    await screenshotBetween(page, "h1", "[data-testid=saml-sp-values]", "readme-saml-setup");

    // Pasted metadata that is not SAML metadata: refused beside the field, nothing created.
    await page.getByLabel("Connection name").fill("Acme AD FS");
    await page.getByTestId("source-xml").check();
    assert.ok(await page.getByLabel("IdP metadata XML").isVisible());
    assert.ok(!(await page.getByLabel("IdP metadata URL").isVisible()), "only the chosen way shows");
    await page.getByLabel("IdP metadata XML").fill("<html><body>Sign in to AD FS</body></html>");
    await page.locator("input[name=knownDomains][value='acme.test']").check();
    await page.getByTestId("create-connection").click();
    await page.waitForSelector("#metadataXml-error");
    assert.match((await page.textContent("#metadataXml-error")) ?? "", /not SAML 2.0 metadata/);
    assert.equal(await page.inputValue("#acs-url"), acsUrl, "the values already copied stay right");
    assert.equal(await page.inputValue("input[name=name]"), "Acme AD FS", "the form keeps what was typed");
    assert.equal((await listConnections(gh.ctx.store.db, organizationId)).length, 0);
    await screenshot(page, "saml-admin-02-refused-metadata");

    // The IdP's metadata URL: created, enabled, at the id the page showed.
    await page.getByTestId("source-url").check();
    await page.getByLabel("IdP metadata URL").fill(metadataUrl);
    await page.getByTestId("create-connection").click();
    await page.waitForSelector("[data-testid=connection-created]");
    assert.match(
      (await page.textContent("[data-testid=connection-created]")) ?? "",
      /Acme AD FS has been created and enabled/,
    );
    const [connection] = await listConnections(gh.ctx.store.db, organizationId);
    assert.equal(connection?.protocol, "saml");
    assert.equal(acsUrl, `${gh.url}/sso/saml/${connection?.id}/acs`);
    const section = page.getByTestId("saml-connection");
    assert.equal(await section.locator("[data-field=idp-entity-id]").textContent(), idp.entityId);
    assert.equal(await section.locator("[data-field=sso-url]").textContent(), idp.ssoUrl);
    assert.match((await section.getByTestId("idp-certificate").textContent()) ?? "", /SHA-256 [0-9A-F:]{95}/);
    assert.equal(await page.inputValue(`#acs-url-${connection?.id}`), acsUrl);
    assert.ok(await page.getByTestId("test-sign-in").isVisible());
    assert.ok(await page.getByTestId("delete-connection").isVisible());
    await screenshot(page, "saml-admin-03-connection");
    await screenshotBetween(page, "h1", "[data-testid=saml-connection]", "readme-saml-connection");

    // The same pages on a phone (the admin's session survives: acme.test now signs in through SAML).
    const phone = page;
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto("/admin/enterprise-authentication/saml/new");
    await phone.waitForSelector("[data-testid=saml-sp-values]");
    await assertNoSidewaysScroll(phone);
    await screenshot(phone, "saml-admin-04-setup-phone");
    await phone.goto(`/admin/enterprise-authentication/saml/${connection?.id}`);
    await phone.waitForSelector("[data-testid=saml-connection]");
    await assertNoSidewaysScroll(phone);
    await screenshot(phone, "saml-admin-05-connection-phone");

    assert.deepEqual(problems, []);
  },
);
