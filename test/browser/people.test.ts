import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { browserTestOptions, launchBrowser, screenshot } from "../support/chromium.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

const ADMIN_EMAIL = "admin@acme.test";
const ADMIN_PASSWORD = "correct horse battery";
const NEW_PASSWORD = "the invited person's password";

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

async function signIn(page: Page, base: string, email: string, password: string) {
  await page.goto(`${base}/login`);
  await page.fill("#email", email);
  await page.click("button[type=submit]");
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/`);
}

test(
  "People: invite a member, who sets a password from the link; change a role; remove",
  options,
  async () => {
    assert.ok(gh && browser);
    const base = gh.url;
    const adminContext = await browser.newContext();
    const admin = await adminContext.newPage();
    await signIn(admin, base, ADMIN_EMAIL, ADMIN_PASSWORD);
    await admin.goto(`${base}/admin`);
    await admin.click("[data-testid=admin-people] a");
    await admin.waitForURL(`${base}/admin/people`);

    await admin.fill("#invite-email", "newbie@acme.test");
    await admin.selectOption("#invite-role", "member");
    await admin.click("[data-testid=invite]");
    await admin.waitForSelector("[data-testid=created-invitation]");
    const link = await admin.inputValue("#setup-link");
    assert.match(link, /\/invitation\?token=/);
    assert.equal(
      await admin.locator("[data-testid=invitations] tr[data-email='newbie@acme.test']").count(),
      1,
    );
    await screenshot(admin, "people-invited");

    // The invited person, in a browser of their own.
    const inviteeContext = await browser.newContext();
    const invitee = await inviteeContext.newPage();
    await invitee.goto(link);
    assert.match((await invitee.textContent("h1")) ?? "", /Join Acme/);
    await invitee.fill("#name", "Nina Newbie");
    await invitee.fill("#password", NEW_PASSWORD);
    await invitee.click("[data-testid=accept-invitation]");
    await invitee.waitForURL(`${base}/`);
    const me = JSON.parse(await (await invitee.request.get(`${base}/api/v1/me`)).text()) as {
      role: string;
      user: { email: string; name: string };
    };
    assert.equal(me.role, "member");
    assert.equal(me.user.email, "newbie@acme.test");
    assert.equal(me.user.name, "Nina Newbie");
    // The same link, opened again, says it was used.
    await invitee.goto(link);
    assert.equal(await invitee.getAttribute("[data-error-code]", "data-error-code"), "INVITATION_USED");

    // The admin sees the new member, promotes them, then removes them.
    await admin.goto(`${base}/admin/people`);
    const row = admin.locator("[data-testid=members] tr[data-email='newbie@acme.test']");
    assert.equal(await row.getAttribute("data-role"), "member");
    assert.equal(
      await admin.locator("[data-testid=invitations] tr").count(),
      0,
      "no pending invitations left",
    );
    await row.locator("select[name=role]").selectOption("admin");
    await row.locator("[data-testid=change-role]").click();
    await admin.waitForSelector("[data-testid=people-notice]");
    assert.equal(
      await admin
        .locator("[data-testid=members] tr[data-email='newbie@acme.test']")
        .getAttribute("data-role"),
      "admin",
    );
    // The promotion shows at the member's next request: Administration opens for them.
    assert.equal((await invitee.goto(`${base}/admin/people`))?.status(), 200);

    // The owner's own row offers no change: an organization keeps its last owner.
    const ownerRow = admin.locator(`[data-testid=members] tr[data-email='${ADMIN_EMAIL}']`);
    assert.equal(await ownerRow.locator("select").count(), 0);

    const newbie = admin.locator("[data-testid=members] tr[data-email='newbie@acme.test']");
    await newbie.locator("[data-testid=remove-member]").click();
    await newbie.locator("[data-testid=confirm-remove]").click();
    await admin.waitForSelector("[data-testid=people-notice]");
    assert.equal(await admin.locator("[data-testid=members] tr[data-email='newbie@acme.test']").count(), 0);
    await screenshot(admin, "people-removed");

    // Their session ended: the next page asks them to sign in.
    await invitee.goto(`${base}/admin/people`);
    assert.match(invitee.url(), /\/login\?return_to=/);

    await adminContext.close();
    await inviteeContext.close();
  },
);
