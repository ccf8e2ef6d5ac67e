/**
 * The SAML Setup page's values (ACS URL, SP Entity ID, SP metadata URL) before the connection
 * exists, over HTTP (on SQLite, and on PostgreSQL with GATEHOUSE_TEST_DATABASE=postgres): the
 * admin copies them into the IdP first, so they stay the same for the organization on every
 * load, for every admin, on every instance and across a secret-key rotation, until Create uses
 * them; then the next load shows new ones. Only an id reserved for the admin's own
 * organization can be created, and of two admins creating with it at once only one gets it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import { hashPassword } from "../../src/crypto/password.js";
import { findConnectionById } from "../../src/store/connections.js";
import { insertMembership } from "../../src/store/organizations.js";
import { insertUser, setPassword } from "../../src/store/users.js";
import { Browser, csrfToken, errorCode, passwordSignIn } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";
import { createTestIdp, type TestIdp } from "./hostile-idp.js";

const SAML_PATH = "/admin/enterprise-authentication/saml";
const SECOND_ADMIN = { email: "ops@acme-contractors.test", password: "another correct horse battery" };
const secretKey = randomBytes(32).toString("base64");

let gh: TestGatehouse;
let organizationId: string;
let idp: TestIdp;
let admin: Browser;
let secondAdmin: Browser;

before(async () => {
  gh = await startGatehouse({ env: { GATEHOUSE_SECRET_KEY: secretKey } });
  ({ organizationId } = await seedAcme(gh));
  admin = new Browser();
  assert.equal((await passwordSignIn(admin, gh.url, ADMIN.email, ADMIN.password)).status, 303);
  // Another admin of Acme, at a domain no connection enforces.
  const now = gh.ctx.now();
  const user = await insertUser(gh.ctx.store.db, { email: SECOND_ADMIN.email }, now);
  await setPassword(gh.ctx.store.db, user.id, await hashPassword(SECOND_ADMIN.password), now);
  await insertMembership(gh.ctx.store.db, { organizationId, userId: user.id, role: "admin" }, now);
  secondAdmin = new Browser();
  assert.equal(
    (await passwordSignIn(secondAdmin, gh.url, SECOND_ADMIN.email, SECOND_ADMIN.password)).status,
    303,
  );
  idp = await createTestIdp();
});
after(async () => {
  await gh.close();
});

interface SetupPage {
  csrf: string;
  connectionId: string;
  connectionIdProof: string;
  acsUrl: string;
  entityId: string;
  metadataUrl: string;
  body: string;
}

async function openSetup(browser: Browser, base = gh.url): Promise<SetupPage> {
  const page = await browser.get(`${base}${SAML_PATH}/new`);
  assert.equal(page.status, 200, page.body.slice(0, 300));
  const field = (re: RegExp) => {
    const value = re.exec(page.body)?.[1];
    assert.ok(value, `${re} on the Setup page`);
    return value;
  };
  return {
    csrf: csrfToken(page.body),
    connectionId: field(/name="connectionId" value="([^"]+)"/),
    connectionIdProof: field(/name="connectionIdProof" value="([^"]+)"/),
    acsUrl: field(/id="acs-url"[^>]*value="([^"]+)"/),
    entityId: field(/id="sp-entity-id"[^>]*value="([^"]+)"/),
    metadataUrl: field(/id="sp-metadata-url"[^>]*value="([^"]+)"/),
    body: page.body,
  };
}

/** Create on the Setup form, with the IdP's metadata pasted and a domain of its own (pending). */
function create(browser: Browser, form: SetupPage, name: string, domain: string, base = gh.url) {
  return browser.post(`${base}${SAML_PATH}`, {
    _csrf: form.csrf,
    connectionId: form.connectionId,
    connectionIdProof: form.connectionIdProof,
    name,
    metadataSource: "xml",
    metadataXml: idp.metadataXml(),
    domains: domain,
  });
}

async function anotherOrganizationAdmin(slug: string): Promise<Browser> {
  const email = `admin@${slug}.test`;
  await createOrganizationWithAdmin(gh.ctx, {
    slug,
    name: `${slug} Inc`,
    adminEmail: email,
    adminPassword: ADMIN.password,
  });
  const browser = new Browser();
  assert.equal((await passwordSignIn(browser, gh.url, email, ADMIN.password)).status, 303);
  return browser;
}

const connectionIdOf = (location: string | undefined) =>
  /\/saml\/([0-9a-f-]{36})(?:\?|$)/.exec(location ?? "")?.[1];

describe("the SAML Setup page's values before Create", () => {
  test("two loads of the Setup page show the same ACS URL, SP Entity ID and metadata URL", async () => {
    const first = await openSetup(admin);
    const second = await openSetup(admin);
    assert.equal(second.connectionId, first.connectionId);
    assert.equal(second.acsUrl, first.acsUrl);
    assert.equal(second.entityId, first.entityId);
    assert.equal(second.metadataUrl, first.metadataUrl);
    assert.equal(first.acsUrl, `${gh.url}/sso/saml/${first.connectionId}/acs`);
    assert.match(first.body, /data-testid="sp-values-kept"/);
    // The first page of the section, while there is no SAML connection, is the same Setup page.
    const section = await admin.get(`${gh.url}${SAML_PATH}`);
    assert.match(section.body, new RegExp(`name="connectionId" value="${first.connectionId}"`));
  });

  test("a second admin of the organization is shown the same values", async () => {
    const mine = await openSetup(admin);
    const theirs = await openSetup(secondAdmin);
    assert.equal(theirs.acsUrl, mine.acsUrl);
    assert.equal(theirs.connectionId, mine.connectionId);
  });

  test("another instance on the same database, with a rotated secret key, shows the same values", async () => {
    const rotated = await startGatehouse({
      databaseUrl: gh.ctx.config.databaseUrl,
      env: {
        GATEHOUSE_SECRET_KEY: randomBytes(32).toString("base64"),
        GATEHOUSE_PREVIOUS_SECRET_KEYS: secretKey,
      },
    });
    try {
      const browser = new Browser();
      assert.equal((await passwordSignIn(browser, rotated.url, ADMIN.email, ADMIN.password)).status, 303);
      const there = await openSetup(browser, rotated.url);
      const here = await openSetup(admin);
      assert.equal(there.connectionId, here.connectionId);
      assert.notEqual(there.connectionIdProof, here.connectionIdProof, "proved with the new key");
    } finally {
      await rotated.close();
    }
  });

  test("another organization is shown other values", async () => {
    const globex = await openSetup(await anotherOrganizationAdmin("globex"));
    const acme = await openSetup(admin);
    assert.notEqual(globex.connectionId, acme.connectionId);
  });

  test("the SP metadata URL of the reserved id answers 404 until Create", async () => {
    const form = await openSetup(admin);
    const metadata = await fetch(form.metadataUrl);
    assert.equal(metadata.status, 404);
  });

  test("the API's test before Create answers the id the Setup page shows", async () => {
    const form = await openSetup(admin);
    const apiKey = (await createApiKey(gh.ctx, "acme", "setup")).key;
    const response = await fetch(`${gh.url}/api/v1/connections/test`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        type: "saml",
        name: "Acme ADFS (API test)",
        domains: ["api-test.acme-labs.test"],
        metadataXml: idp.metadataXml(),
      }),
    });
    const json = (await response.json()) as { saml?: { connectionId: string; acsUrl: string } };
    assert.equal(response.status, 201, JSON.stringify(json));
    assert.equal(json.saml?.connectionId, form.connectionId);
    assert.equal(json.saml?.acsUrl, form.acsUrl);
  });

  test("an id reserved for another organization is refused, with its proof or with ours: nothing created", async () => {
    const globex = await openSetup(await anotherOrganizationAdmin("globex-squat"));
    const ours = await openSetup(admin);
    for (const proof of [globex.connectionIdProof, ours.connectionIdProof]) {
      const answer = await create(
        admin,
        { ...ours, connectionId: globex.connectionId, connectionIdProof: proof },
        "Acme ADFS (squatting)",
        "squat.acme-labs.test",
      );
      assert.equal(answer.status, 400, answer.body.slice(0, 300));
      assert.equal(errorCode(answer.body), "REQUEST_INVALID");
    }
    assert.equal(await findConnectionById(gh.ctx.store.db, globex.connectionId), undefined);
    assert.equal((await openSetup(admin)).connectionId, ours.connectionId, "ours still reserved");
  });

  test("a refused Create keeps the values; Create makes the connection with them, and the next load shows new ones", async () => {
    const form = await openSetup(admin);
    const refused = await create(admin, { ...form }, "", "created.acme-labs.test");
    assert.equal(refused.status, 400);
    assert.match(refused.body, new RegExp(`name="connectionId" value="${form.connectionId}"`));
    assert.equal((await openSetup(admin)).connectionId, form.connectionId);

    const created = await create(admin, form, "Acme ADFS (created)", "created.acme-labs.test");
    assert.equal(created.status, 303, created.body.slice(0, 500));
    assert.equal(connectionIdOf(created.location), form.connectionId);
    assert.equal((await fetch(form.metadataUrl)).status, 200, "the metadata answers once created");

    const next = await openSetup(admin);
    assert.notEqual(next.connectionId, form.connectionId);
    assert.equal((await openSetup(secondAdmin)).connectionId, next.connectionId);

    // The same form sent again: the connection exists.
    const again = await create(admin, form, "Acme ADFS (created twice)", "twice.acme-labs.test");
    assert.equal(again.status, 409);
    assert.equal(errorCode(again.body), "CONFLICT");
  });

  test("two admins creating with the same values at once: one gets the connection, the other a CONFLICT", async () => {
    const mine = await openSetup(admin);
    const theirs = await openSetup(secondAdmin);
    assert.equal(theirs.connectionId, mine.connectionId);
    const answers = await Promise.all([
      create(admin, mine, "Acme ADFS (race one)", "race-one.acme-labs.test"),
      create(secondAdmin, theirs, "Acme ADFS (race two)", "race-two.acme-labs.test"),
    ]);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [303, 409], answers.map((a) => a.body.slice(0, 300)).join("\n"));
    const lost = answers.find((a) => a.status === 409);
    assert.equal(errorCode(lost?.body ?? ""), "CONFLICT");
    const won = answers.find((a) => a.status === 303);
    assert.equal(connectionIdOf(won?.location), mine.connectionId);
  });

  test("a form whose id another admin created and then deleted is a CONFLICT, not the same connection again", async () => {
    const stale = await openSetup(secondAdmin);
    const form = await openSetup(admin);
    assert.equal(form.connectionId, stale.connectionId);
    const created = await create(admin, form, "Acme ADFS (deleted)", "deleted.acme-labs.test");
    assert.equal(created.status, 303, created.body.slice(0, 500));
    await gh.ctx.store.db.deleteFrom("connections").where("id", "=", stale.connectionId).execute();

    const answer = await create(secondAdmin, stale, "Acme ADFS (stale)", "stale.acme-labs.test");
    assert.equal(answer.status, 409, answer.body.slice(0, 500));
    assert.equal(errorCode(answer.body), "CONFLICT");
    assert.equal(await findConnectionById(gh.ctx.store.db, stale.connectionId), undefined);
  });

  test("deleting the organization deletes its reserved id", async () => {
    const initech = await anotherOrganizationAdmin("initech");
    await openSetup(initech);
    const organization = await gh.ctx.store.db
      .selectFrom("organizations")
      .select("id")
      .where("slug", "=", "initech")
      .executeTakeFirstOrThrow();
    const reserved = () =>
      gh.ctx.store.db
        .selectFrom("saml_reserved_connection_ids")
        .select("connection_id")
        .where("organization_id", "=", organization.id)
        .execute();
    assert.equal((await reserved()).length, 1);
    await gh.ctx.store.db.deleteFrom("organizations").where("id", "=", organization.id).execute();
    assert.deepEqual(await reserved(), []);
  });
});
