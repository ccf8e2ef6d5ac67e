/**
 * SAML sign-in in real Chromium, across two sites: Gatehouse at http://localhost and the IdP at
 * http://127.0.0.1, so the IdP's POST to the ACS URL is cross-site and Chromium sends no
 * SameSite=Lax cookie with it. The sign-in still completes, because the ACS page posts the
 * response on from Gatehouse's own origin (public/app.js), where the browser-binding cookie is
 * sent; this is the design in docs/saml.md proved in a browser.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { inflateRawSync } from "node:zlib";
import type { Browser as Chromium } from "playwright-core";
import { generateSpKeyPair } from "../../src/sso/saml/sp-keys.js";
import {
  composeResponse,
  idpMetadata,
  signAssertion,
  type TestIdp,
  toPostField,
} from "../saml/hostile-idp.js";
import { addSamlConnection, type SamlConnectionFixture } from "../saml/http-support.js";
import { browserTestOptions, launchBrowser } from "../support/chromium.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

const options = browserTestOptions();
let gh: TestGatehouse;
let chromium: Chromium;
let idpServer: Server;
let idp: TestIdp;
let connection: SamlConnectionFixture;
/** What the IdP saw arrive at its SSO URL, and whether the Gatehouse cookies came along to the ACS. */
const seen: { relayState?: string; capturedUrl?: string } = {};
/** "capture": the IdP keeps the request and shows a blank page, as if the person walked away. */
let idpMode: "answer" | "capture" = "answer";

before(async () => {
  if (options.skip) return;
  gh = await startGatehouse();
  const { organizationId } = await seedAcme(gh);
  idpServer = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const samlRequest = url.searchParams.get("SAMLRequest");
    if (url.pathname !== "/sso" || !samlRequest) {
      response.writeHead(404).end();
      return;
    }
    if (idpMode === "capture") {
      seen.capturedUrl = url.toString().replace("http://127.0.0.1", idp.ssoUrl.replace(/\/sso$/, ""));
      response.writeHead(200, { "content-type": "text/plain" }).end("captured");
      return;
    }
    const requestXml = inflateRawSync(Buffer.from(samlRequest, "base64")).toString();
    const requestId = /\bID="([^"]+)"/.exec(requestXml)?.[1];
    const relayState = url.searchParams.get("RelayState") ?? "";
    seen.relayState = relayState;
    const xml = signAssertion(
      composeResponse({
        idp,
        acsUrl: connection.acsUrl,
        spEntityId: connection.entityId,
        requestId,
        now: new Date(gh.ctx.now()),
        nameId: "alice@acme.test",
        attributes: { email: ["alice@acme.test"], displayName: ["Alice Example"] },
      }),
      { key: idp.key },
    );
    // The IdP's own auto-posting page, as IdPs send it (an inline script is the IdP's business).
    response
      .writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(
        `<!doctype html><html><body><form method="post" action="${connection.acsUrl}">` +
          `<input type="hidden" name="SAMLResponse" value="${toPostField(xml)}">` +
          `<input type="hidden" name="RelayState" value="${relayState}">` +
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
  connection = await addSamlConnection(gh, organizationId, {
    metadataXml: idp.metadataXml(),
    name: "Acme SAML",
  });
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await new Promise((resolve) => (idpServer ? idpServer.close(resolve) : resolve(undefined)));
  await gh?.close();
});

test(
  "SAML sign-in through a cross-site IdP POST ends signed in, the browser binding checked",
  options,
  async () => {
    const context = await chromium.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(`${gh.url}/sso/start?email=alice%40acme.test`);
    await page.waitForURL(`${gh.url}/`);
    assert.match((await page.locator('[data-field="email"]').textContent()) ?? "", /alice@acme\.test/);
    assert.ok(seen.relayState, "the IdP received Gatehouse's RelayState");
    assert.deepEqual(problems, []);

    await context.close();
  },
);

test(
  "a sign-in begun in one browser and answered into another is refused (login CSRF)",
  options,
  async () => {
    // The victim's browser begins; the attacker obtains the IdP URL it was sent to.
    const victim = await chromium.newContext();
    const victimPage = await victim.newPage();
    idpMode = "capture";
    await victimPage.goto(`${gh.url}/sso/start?email=bob%40acme.test`);
    idpMode = "answer";
    const idpUrl = seen.capturedUrl;
    assert.ok(idpUrl, "the victim's browser was sent to the IdP");
    // The attacker's browser gets the IdP's answer for that sign-in and posts it to the ACS.
    const attacker = await chromium.newContext();
    const page = await attacker.newPage();
    await page.goto(idpUrl);
    await page.waitForURL(/\/acs\/continue$/);
    assert.equal(
      await page.locator("[data-error-code]").first().getAttribute("data-error-code"),
      "SSO_BROWSER_MISMATCH",
    );
    const me = await page.request.get(`${gh.url}/api/v1/me`);
    assert.equal(me.status(), 401);
    await victim.close();
    await attacker.close();
  },
);
