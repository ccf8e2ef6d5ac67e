import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createApiKey, revokeApiKey } from "../../src/api/keys.js";
import { hashPassword } from "../../src/crypto/password.js";
import { insertAuditEvent } from "../../src/store/audit.js";
import { insertMembership } from "../../src/store/organizations.js";
import { insertUser, setPassword } from "../../src/store/users.js";
import { browserTestOptions, launchBrowser, screenshot } from "../support/chromium.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, startGatehouseWithIdp } from "../support/sso.js";

/**
 * Layout at the sizes people use: a phone (390 px) and a laptop (1280 px). Each test measures
 * the rendered page in Chromium, because these defects live in the stylesheet, not the markup.
 */
const options = browserTestOptions();
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };
const OIDC = "/admin/enterprise-authentication/oidc";
/** Long enough to wrap if allowed to: the longest code in the error registry is about this long. */
const LONG_CODE = "SSO_EMAIL_DOMAIN_NOT_ALLOWED";
const TRACE_ID = "95788D196B";

let gh: TestGatehouse | undefined;
let closeIdp: (() => Promise<void>) | undefined;
let browser: Browser | undefined;
let connectionId = "";

before(async () => {
  if (options.skip) return;
  const started = await startGatehouseWithIdp();
  gh = started.gh;
  closeIdp = () => started.idp.close();
  const acme = await seedAcme(gh);
  // The connection serves acme.example, so the admin at acme.test keeps password sign-in.
  await verifyDomainsAsOperator(gh, acme.organizationId, ["acme.example"]);
  connectionId = (await connectAcme(gh, started.idp, acme.organizationId, ["acme.example"])).id;
  // A member whose role the admin can change: the People row with the role dropdown.
  const now = gh.ctx.now();
  const member = await insertUser(gh.ctx.store.db, { email: "alice@acme.test", name: "Alice Anderson" }, now);
  await setPassword(gh.ctx.store.db, member.id, await hashPassword("alice's password"), now);
  await insertMembership(
    gh.ctx.store.db,
    { organizationId: acme.organizationId, userId: member.id, role: "member" },
    now,
  );
  for (const [i, email] of ["carol@gmail.test", "bob@acme.example"].entries()) {
    await insertAuditEvent(
      gh.ctx.store.db,
      {
        type: "sign_in.sso",
        organizationId: acme.organizationId,
        connectionId,
        outcome: "failure",
        // As the review saw them: one address the provider asserted, one only typed at sign-in.
        email: i === 0 ? email : null,
        reasonCode: LONG_CODE,
        traceId: `${TRACE_ID}${i}`,
        detail: {
          check: "email domain",
          expected: "acme.example",
          received: email.split("@")[1],
          ...(i === 0 ? {} : { typedEmail: email }),
          detail: "the provider asserted an address at a domain this connection does not serve",
        },
      },
      now - i * 1000,
    );
  }
  await createApiKey(gh.ctx, "acme", "Deploy script");
  const revoked = await createApiKey(gh.ctx, "acme", "Old CI");
  await revokeApiKey(gh.ctx, revoked.id, { organizationId: acme.organizationId });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await closeIdp?.();
  await gh?.close();
});

async function signedIn(context: BrowserContext): Promise<Page> {
  assert.ok(gh);
  const page = await context.newPage();
  await page.goto(`${gh.url}/login`);
  await page.fill("#email", ADMIN.email);
  await page.click("button[type=submit]");
  await page.fill("#password", ADMIN.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${gh.url}/`);
  return page;
}

/**
 * A failed test sign-in (Alice at acme.test is not of acme.example), leaving the page on its
 * result; returns the result's path, which only this browser's session may open.
 */
async function failedTestSignIn(page: Page): Promise<string> {
  assert.ok(gh);
  await page.goto(`${gh.url}${OIDC}/${connectionId}`);
  await page.click("[data-testid=test-sign-in]");
  await page.waitForSelector("input[name=password]");
  await page.fill("input[name=email]", "alice@acme.test");
  await page.fill("input[name=password]", "alice-password");
  await page.click("button:has-text('Sign in')");
  await page.waitForSelector("[data-testid=test-outcome][data-outcome=failure]");
  const url = new URL(page.url());
  return url.pathname + url.search;
}

/** How far the page reaches past the window's right edge, in CSS pixels (0 when it fits). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
}

/** Opens every confirmation panel (Sign out everywhere…, Remove…, …), as an admin at work would. */
function openPanels(page: Page): Promise<void> {
  return page.evaluate(() => {
    for (const details of document.querySelectorAll("details")) details.open = true;
  });
}

/**
 * The elements matching `selector` that the browser laid out on more than one line, or that
 * stick out of the box around them (`.activity-detail`, else the table cell).
 */
function brokenInside(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(
    (s) =>
      [...document.querySelectorAll(s)]
        .filter((element) => {
          const box = element.closest(".activity-detail, td")?.getBoundingClientRect();
          const rects = element.getClientRects();
          return rects.length > 1 || (box !== undefined && (rects[0]?.right ?? 0) > box.right + 0.5);
        })
        .map((element) => element.textContent ?? ""),
    selector,
  );
}

describe("layout", () => {
  test(
    "no admin page is wider than a 390 px phone screen, action panels open or closed",
    options,
    async () => {
      assert.ok(gh && browser);
      const pages = [
        "/admin",
        "/admin/enterprise-authentication",
        OIDC,
        `${OIDC}/new`,
        `${OIDC}/${connectionId}`,
        `${OIDC}/${connectionId}/edit`,
        `${OIDC}/${connectionId}/delete`,
        "/admin/enterprise-authentication/saml",
        "/admin/enterprise-authentication/domains",
        "/admin/people",
        "/admin/api-keys",
      ];
      const context = await browser.newContext({ viewport: PHONE });
      const page = await signedIn(context);
      pages.push(await failedTestSignIn(page));
      const tooWide: string[] = [];
      for (const path of pages) {
        const answer = await page.goto(`${gh.url}${path}`);
        assert.equal(answer?.status(), 200, path);
        const closed = await overflow(page);
        await openPanels(page);
        const open = await overflow(page);
        if (closed > 0 || open > 0)
          tooWide.push(`${path}: ${closed} px too wide, ${open} px with panels open`);
      }
      await page.goto(`${gh.url}/admin/people`);
      await openPanels(page);
      await screenshot(page, "layout-people-phone-panels-open");
      await context.close();
      assert.deepEqual(tooWide, []);
    },
  );

  test(
    "People at 1280 px with every action panel open: the role dropdown shows its whole value",
    options,
    async () => {
      assert.ok(gh && browser);
      const context = await browser.newContext({ viewport: LAPTOP });
      const page = await signedIn(context);
      await page.goto(`${gh.url}/admin/people`);
      await openPanels(page);
      await screenshot(page, "layout-people-laptop-panels-open");
      const select = page.locator("tr[data-email='alice@acme.test'] select[name=role]");
      assert.equal(await select.inputValue(), "member");
      // The width the dropdown takes on its own, outside any table, against its width in the row.
      const [inRow, natural] = await select.evaluate((element) => {
        const alone = element.cloneNode(true) as HTMLSelectElement;
        alone.style.width = "auto";
        alone.style.position = "absolute";
        document.body.append(alone);
        const widths = [element.getBoundingClientRect().width, alone.getBoundingClientRect().width];
        alone.remove();
        return widths;
      });
      assert.ok(
        (inRow ?? 0) >= (natural ?? 0) - 0.5,
        `the dropdown is ${inRow} px wide but needs ${natural} px`,
      );
      await context.close();
    },
  );

  for (const [name, viewport] of [
    ["1280", LAPTOP],
    ["390", PHONE],
  ] as const) {
    test(`reference codes and error codes never break inside, at ${name} px`, options, async () => {
      assert.ok(gh && browser);
      const context = await browser.newContext({ viewport });
      const page = await signedIn(context);
      await page.goto(`${gh.url}${OIDC}/${connectionId}`);
      await openPanels(page);
      await screenshot(page, `layout-activity-${name}`);
      const activity = page.locator("[data-testid=sign-in-activity]");
      assert.equal(await activity.locator("code.trace-id").count(), 2);
      assert.equal(await activity.locator("code.error-code").count(), 2);
      assert.deepEqual(
        await brokenInside(page, "[data-testid=sign-in-activity] :is(.trace-id, .error-code)"),
        [],
      );

      // A key's prefix and its times, with the Revoke confirmation open beside them.
      await page.goto(`${gh.url}/admin/api-keys`);
      await openPanels(page);
      await screenshot(page, `layout-api-keys-${name}`);
      assert.equal(await page.locator("td code.key-prefix").count(), 2);
      assert.deepEqual(await brokenInside(page, "td :is(code.key-prefix, time)"), []);

      await failedTestSignIn(page);
      await screenshot(page, `layout-test-result-${name}`);
      assert.equal(await page.locator("[data-testid=test-check-failure] code.error-code").count(), 1);
      assert.deepEqual(await brokenInside(page, "[data-testid=test-check-failure] .error-code"), []);
      // On a laptop the failed check's expected and received values keep room beside it.
      if (name === "1280") {
        assert.deepEqual(
          await brokenInside(page, "[data-testid=test-check][data-state=failed] [data-field] code"),
          [],
        );
      }
      await context.close();
    });
  }

  test("the organization's sign-in link is shown whole at 1280 px", options, async () => {
    assert.ok(gh && browser);
    const context = await browser.newContext({ viewport: LAPTOP });
    const page = await signedIn(context);
    await page.goto(`${gh.url}/admin`);
    await screenshot(page, "layout-admin-laptop");
    const link = page.locator("#sign-in-url");
    assert.equal(await link.inputValue(), `${gh.url}/sso/start?organization=acme`);
    const [scroll, client] = await link.evaluate((input) => [input.scrollWidth, input.clientWidth]);
    assert.ok((scroll ?? 0) <= (client ?? 0), `the link needs ${scroll} px and has ${client} px`);
    await page.setViewportSize(PHONE);
    await screenshot(page, "layout-admin-phone");
    await context.close();
  });
});
