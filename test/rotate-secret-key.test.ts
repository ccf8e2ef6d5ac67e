import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";
import { rotateSecretKey, SEALED_COLUMNS } from "../src/operations/rotate-secret-key.js";
import { Browser, csrfToken, passwordSignIn } from "./support/browserless.js";
import { type TestDatabase, testDatabases } from "./support/databases.js";
import { freePort, startGatehouse, type TestGatehouse } from "./support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, ssoSignIn } from "./support/sso.js";

const oldKey = randomBytes(32).toString("base64");
const newKey = randomBytes(32).toString("base64");

describe("gatehouse keys rotate-secret-key", () => {
  let dir: string;
  let database: TestDatabase;
  let idp: DevIdp;
  let port: number;
  const open: TestGatehouse[] = [];

  /** One instance at a time on the same port, so the IdP's registered callback URL stays valid. */
  async function instance(env: Record<string, string>): Promise<TestGatehouse> {
    const gh = await startGatehouse({ port, databaseUrl: database.url, env: { ...database.env, ...env } });
    open.push(gh);
    return gh;
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-rotate-"));
    const dialect =
      testDatabases().find(
        (d) => d.name === (process.env.GATEHOUSE_TEST_DATABASE === "postgres" ? "postgres" : "sqlite"),
      ) ?? testDatabases()[0];
    assert.ok(dialect);
    database = await dialect.create();
    await database.store.close();
    port = await freePort();
    idp = await startDevIdp({ port: 0, ...demoIdpSetup(`http://localhost:${port}/`) });
  });
  after(async () => {
    for (const gh of open) await gh.close().catch(() => undefined);
    await idp?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("re-seals every value in one transaction; sessions, old cookies and SSO keep working", async () => {
    const before = await instance({ GATEHOUSE_SECRET_KEY: oldKey });
    const { organizationId } = await seedAcme(before);
    const connection = await connectAcme(before, idp, organizationId);
    // A password session (at a domain without SSO) whose CSRF cookie is signed under the old key.
    await createOrganizationWithAdmin(before.ctx, {
      slug: "globex",
      name: "Globex",
      adminEmail: "admin@globex.test",
      adminPassword: ADMIN.password,
    });
    const browser = new Browser();
    assert.equal(
      (await passwordSignIn(browser, before.url, "admin@globex.test", ADMIN.password)).status,
      303,
    );
    const page = await browser.get(`${before.url}/admin/api-keys`);
    const token = csrfToken(page.body);
    await before.close();

    const rotating = await instance({ GATEHOUSE_SECRET_KEY: newKey, GATEHOUSE_PREVIOUS_SECRET_KEYS: oldKey });
    const report = await rotateSecretKey(rotating.ctx);
    assert.ok(report.resealed >= 1, "the connection's client secret at least");
    assert.equal(report.keyId, rotating.ctx.box.currentKeyId);
    const again = await rotateSecretKey(rotating.ctx);
    assert.deepEqual([again.resealed, again.current], [0, report.resealed + report.current]);

    // The session survives, and a form posted with a cookie signed under the old key is accepted.
    // The first attempt may meet a keep-alive socket of the instance closed above on this port.
    const post = () =>
      browser.post(`${rotating.url}/admin/api-keys`, { _csrf: token, name: "after rotation" });
    const created = await post().catch(post);
    assert.equal(created.status, 201, "the CSRF cookie signed under the previous key is still valid");
    const forged = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    const refused = await browser.post(`${rotating.url}/admin/api-keys`, { _csrf: forged, name: "forged" });
    assert.equal(refused.status, 403, "a token that verifies under no key is still refused");
    await rotating.close();

    // Once re-sealed, the old key is no longer needed to open anything: SSO works without it.
    const after = await instance({ GATEHOUSE_SECRET_KEY: newKey });
    const signedIn = await ssoSignIn(new Browser(), after, idp, "alice@acme.test", "alice-password");
    assert.equal(signedIn.status, 303, `SSO through ${connection.name} after the rotation`);
    const events = await after.ctx.store.db
      .selectFrom("audit_events")
      .select("type")
      .where("type", "=", "secret_key.rotated")
      .execute();
    assert.equal(events.length, 2);
  });

  test("every *_sealed column of the schema is re-sealed by the rotation", async () => {
    const gh = open.at(-1);
    assert.ok(gh);
    const tables = await gh.ctx.store.db.introspection.getTables();
    const sealed = tables.flatMap((t) =>
      t.columns.filter((c) => c.name.endsWith("_sealed")).map((c) => `${t.name}.${c.name}`),
    );
    assert.ok(sealed.length > 0);
    const listed = new Set(SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`));
    for (const column of sealed) assert.ok(listed.has(column), `${column} is not in SEALED_COLUMNS`);
  });
});
