/**
 * The sample application (examples/saas-app) signs a person in through Gatehouse, in real
 * Chromium: its "Sign in" → Gatehouse's email-first page → the organization's IdP → back into
 * the application, signed in with the person and organization; then its "Sign out" → Gatehouse
 * → the IdP's logout → back to the application, signed out.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser as Chromium } from "playwright-core";
import { startSampleApplication } from "../../src/cli/sample-app.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { browserTestOptions, launchBrowser, screenshot } from "../support/chromium.js";
import { freePort, type TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, startGatehouseWithIdp } from "../support/sso.js";

const options = browserTestOptions();
let gh: TestGatehouse;
let idp: DevIdp;
let chromium: Chromium;
let sample: { url: string; close(): Promise<void> };

before(async () => {
  if (options.skip) return;
  ({ gh, idp } = await startGatehouseWithIdp());
  const { organizationId } = await seedAcme(gh);
  await connectAcme(gh, idp, organizationId);
  sample = await startSampleApplication(gh.ctx, await freePort());
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await sample?.close();
  await idp?.close();
  await gh?.close();
});

test("the sample application: sign in through Gatehouse and the IdP, and back out", options, async () => {
  const page = await (await chromium.newContext()).newPage();
  await page.goto(sample.url);
  await page.click("#sign-in");
  await page.waitForURL((url) => url.toString().startsWith(`${gh.url}/login`));
  await page.fill("input[name=email]", "alice@acme.test");
  await page.click("button[type=submit]");
  await page.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await page.fill("input[name=email]", "alice@acme.test");
  await page.fill("input[name=password]", "alice-password");
  await page.click("button:has-text('Sign in')");
  await page.waitForURL((url) => url.toString() === `${sample.url}/`);
  assert.equal(await page.textContent("#email"), "alice@acme.test");
  assert.equal(await page.textContent("#org"), "acme");
  await screenshot(page, "saas-app-signed-in");

  await page.click("#sign-out");
  await page.waitForURL((url) => url.toString().startsWith(`${gh.url}/oidc/session/end`));
  await page.click("[data-testid=provider-sign-out]");
  await page.waitForURL((url) => url.toString().startsWith(idp.issuer));
  await page.click("button:has-text('Sign out')");
  await page.waitForURL((url) => url.toString().startsWith(`${sample.url}/`));
  assert.ok(await page.isVisible("#sign-in"), "back at the application, signed out");
  const me = await page.request.get(`${gh.url}/api/v1/me`);
  assert.equal(me.status(), 401, "the Gatehouse session ended");
});

test(
  "the sample application refuses, with a page that says why, a person without an organization (LinkedIn)",
  options,
  async () => {
    const page = await (await chromium.newContext()).newPage();
    await page.goto(sample.url);
    await page.click("#sign-in");
    await page.waitForURL((url) => url.toString().startsWith(`${gh.url}/login`));
    await page.click("a:has-text('Continue with LinkedIn')");
    await page.waitForURL((url) => url.toString().startsWith(idp.issuer));
    await page.fill("input[name=email]", "carol@gmail.test");
    await page.fill("input[name=password]", "carol-password");
    await page.click("button:has-text('Sign in')");
    await page.waitForURL((url) => url.toString().startsWith(`${sample.url}/callback`));
    assert.match(
      (await page.textContent("#no-organization")) ?? "",
      /carol@gmail\.test is not a member of any/,
    );
    await screenshot(page, "saas-app-no-organization");
    const home = await page.context().newPage();
    await home.goto(sample.url);
    assert.ok(await home.isVisible("#sign-in"), "not signed in to the application");
    await home.close();

    // "Sign in with another account": Gatehouse asks who is signing in, rather than answering
    // with Carol's session.
    const another = await page.context().newPage();
    await another.goto(new URL((await page.getAttribute("#sign-in-another", "href")) ?? "", sample.url).href);
    await another.waitForURL((url) => url.toString().startsWith(`${gh.url}/login`));
    assert.ok(await another.isVisible("input[name=email]"), "Gatehouse's email-first page");
    await another.close();

    await page.click("#sign-out-gatehouse");
    await page.waitForURL((url) => url.toString().startsWith(`${gh.url}/oidc/session/end`));
    await page.click("[data-testid=provider-sign-out]");
    await page.waitForURL((url) => url.toString() === `${sample.url}/`);
    const me = await page.request.get(`${gh.url}/api/v1/me`);
    assert.equal(me.status(), 401, "the Gatehouse session ended");
  },
);

test(
  "the sample application shows its cancelled page when the person goes back from Gatehouse's refusal",
  options,
  async () => {
    const page = await (await chromium.newContext()).newPage();
    await page.goto(sample.url);
    await page.click("#sign-in");
    await page.waitForURL((url) => url.toString().startsWith(`${gh.url}/login`));
    await page.fill("input[name=email]", "alice@acme.test");
    await page.click("button[type=submit]");
    await page.waitForURL((url) => url.toString().startsWith(idp.issuer));
    // An account outside the connection's domain: Gatehouse refuses it.
    await page.fill("input[name=email]", "carol@gmail.test");
    await page.fill("input[name=password]", "carol-password");
    await page.click("button:has-text('Sign in')");
    await page.waitForURL((url) => url.toString().startsWith(gh.url));
    const back = await page.waitForSelector("button:has-text('Back to Acme SaaS (sample)')");
    await Promise.all([
      page.waitForURL((url) => url.toString().startsWith(`${sample.url}/callback`)),
      back.click(),
    ]);
    assert.equal(await page.textContent("h1"), "Sign-in was cancelled");
    assert.ok(await page.isVisible("#try-again"), "a way to start again");
    await screenshot(page, "saas-app-sign-in-cancelled");
  },
);
