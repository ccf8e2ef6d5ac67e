/**
 * Test sign-in of the SAML 2.0 Setup form's values in real Chromium, before Create: the admin
 * fills the form, clicks Test sign-in, goes to the IdP (at http://127.0.0.1, cross-site) and
 * comes back through the ACS URL the page showed to the result page, while no connection
 * exists; Back to the form shows the same values and the same ACS URL.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { inflateRawSync } from "node:zlib";
import type { Browser as Chromium } from "playwright-core";
import { generateSpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { listConnections } from "../../src/store/connections.js";
import {
  composeResponse,
  idpMetadata,
  signAssertion,
  type TestIdp,
  toPostField,
} from "../saml/hostile-idp.js";
import { browserTestOptions, launchBrowser, screenshot } from "../support/chromium.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";

const options = browserTestOptions();
let gh: TestGatehouse;
let chromium: Chromium;
let idpServer: Server;
let idp: TestIdp;
let organizationId: string;
/** The ACS URL the Setup page showed: where the IdP posts its answer, as configured there. */
let acsUrl = "";

before(async () => {
  if (options.skip) return;
  gh = await startGatehouse();
  ({ organizationId } = await seedAcme(gh));
  idpServer = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const samlRequest = url.searchParams.get("SAMLRequest");
    if (url.pathname !== "/sso" || !samlRequest || !acsUrl) {
      response.writeHead(404).end();
      return;
    }
    const requestXml = inflateRawSync(Buffer.from(samlRequest, "base64")).toString();
    const requestId = /\bID="([^"]+)"/.exec(requestXml)?.[1];
    const xml = signAssertion(
      composeResponse({
        idp,
        acsUrl,
        spEntityId: acsUrl.replace(/\/acs$/, "/metadata"),
        requestId,
        now: new Date(gh.ctx.now()),
        nameId: "erin@acme.test",
        attributes: { email: ["erin@acme.test"], displayName: ["Erin Example"], groups: ["staff"] },
      }),
      { key: idp.key },
    );
    response
      .writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(
        `<!doctype html><html><body><form method="post" action="${acsUrl}">` +
          `<input type="hidden" name="SAMLResponse" value="${toPostField(xml)}">` +
          `<input type="hidden" name="RelayState" value="${url.searchParams.get("RelayState") ?? ""}">` +
          `</form><script>document.forms[0].submit()</script></body></html>`,
      );
  });
  await new Promise<void>((resolve) => idpServer.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
  const key = await generateSpKeyPair({ commonName: "browser test idp" });
  const entityId = `${base}/metadata`;
  idp = {
    entityId,
    ssoUrl: `${base}/sso`,
    sloUrl: `${base}/slo`,
    key,
    metadataXml: () => idpMetadata({ entityId, ssoUrl: `${base}/sso`, certificates: [key.certificatePem] }),
  };
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await new Promise((resolve) => (idpServer ? idpServer.close(resolve) : resolve(undefined)));
  await gh?.close();
});

test(
  "Test sign-in on the SAML Setup form: through the IdP and back to the result, nothing created",
  options,
  async () => {
    const context = await chromium.newContext({ baseURL: gh.url, viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
    await page.goto("/login");
    await page.getByLabel("Work email").fill(ADMIN.email);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${gh.url}/`);

    await page.goto("/admin/enterprise-authentication/saml");
    await page.waitForSelector("[data-testid=saml-sp-values]");
    acsUrl = await page.inputValue("#acs-url");
    await page.getByLabel("Connection name").fill("Acme AD FS");
    await page.getByTestId("source-xml").check();
    await page.getByLabel("IdP metadata XML").fill(idp.metadataXml());
    await page.locator("input[name=knownDomains][value='acme.test']").check();
    await page.getByTestId("test-sign-in").click();

    await page.waitForURL(/\/admin\/enterprise-authentication\/oidc\/tests\/[0-9a-f-]{36}$/);
    const outcome = page.getByTestId("test-outcome");
    assert.equal(await outcome.getAttribute("data-outcome"), "success");
    assert.match((await page.textContent("main")) ?? "", /erin@acme\.test/);
    assert.equal(
      await page.locator('[data-testid=test-check][data-check="signature"]').getAttribute("data-state"),
      "passed",
    );
    assert.equal((await listConnections(gh.ctx.store.db, organizationId)).length, 0, "nothing created");
    await screenshot(page, "saml-test-sign-in-01-result");

    // Back to the form: the tested values, and the ACS URL the IdP already holds.
    await page.getByTestId("back-to-form").click();
    await page.waitForSelector("[data-testid=saml-sp-values]");
    assert.equal(await page.inputValue("#acs-url"), acsUrl);
    assert.equal(await page.inputValue("input[name=name]"), "Acme AD FS");
    assert.deepEqual(problems, []);
    await context.close();
  },
);
