import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { Browser, passwordSignIn } from "../support/browserless.js";
import { type TestDatabase, withEachDatabase } from "../support/databases.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

withEachDatabase("Gatehouse on the test database", (dialect) => {
  let database: TestDatabase;
  let gh: TestGatehouse;
  before(async () => {
    database = await dialect.create();
    gh = await startGatehouse({ databaseUrl: database.url, env: database.env });
    await createOrganizationWithAdmin(gh.ctx, {
      slug: "acme",
      name: "Acme",
      adminEmail: "admin@acme.test",
      adminPassword: "correct horse battery",
    });
  });
  after(async () => {
    await gh?.close();
    await database?.drop();
  });

  test("the server runs on the database it was given", () => {
    assert.equal(gh.ctx.store.dialect, dialect.name);
    assert.equal(gh.ctx.config.databaseUrl, database.url);
  });

  test("an admin signs in with a password and the session is in the test database", async () => {
    const browser = new Browser();
    const answer = await passwordSignIn(browser, gh.url, "admin@acme.test", "correct horse battery");
    assert.equal(answer.status, 303);
    const home = await browser.get(`${gh.url}/`);
    assert.match(home.body, /admin@acme\.test/);
    const sessions = await database.store.db.selectFrom("sessions").select("method").execute();
    assert.deepEqual(sessions, [{ method: "password" }]);
  });
});
