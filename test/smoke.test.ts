import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { Browser, passwordSignIn } from "./support/browserless.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";

let gh: TestGatehouse;
before(async () => {
  gh = await startGatehouse();
  await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: "admin@acme.test",
    adminPassword: "correct horse battery",
  });
});
after(() => gh.close());

test("an admin signs in with a password and sees the home page", async () => {
  const browser = new Browser();
  const answer = await passwordSignIn(browser, gh.url, "admin@acme.test", "correct horse battery");
  assert.equal(answer.status, 303);
  const home = await browser.get(`${gh.url}/`);
  assert.match(home.body, /admin@acme\.test/);
  assert.match(home.body, /Acme/);
});
