/**
 * Issue 10, item 6: connection names were one namespace for every organization, so another
 * organization could name its connection after Acme (or Acme's slug) and receive Acme's people
 * who typed that name on the SSO screen; `POST /login` looked the domain up before any rate
 * limit, so which domains have SSO could be listed freely.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createConnection } from "../../src/connections/create.js";
import { hashToken, randomToken } from "../../src/crypto/tokens.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { routeSsoEntry, type SsoRoute } from "../../src/domain/sso-routing.js";
import { sessionCookieName } from "../../src/session/cookie.js";
import { insertSession } from "../../src/store/sessions.js";
import { Browser, csrfToken } from "../support/browserless.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, acmeOktaInput, seedAcme, startGatehouseWithIdp } from "../support/sso.js";

describe("routeSsoEntry", () => {
  const none = { email: "", organization: "", connection: "" };
  const cases: [Partial<typeof none>, SsoRoute][] = [
    [{ email: "Alice@Acme.test" }, { by: "email", email: "alice@acme.test", domain: "acme.test" }],
    [{ email: "acme" }, { by: "organization", slug: "acme", connectionName: undefined }],
    [{ email: " ACME.test " }, { by: "domain", domain: "acme.test" }],
    [{ connection: "acme" }, { by: "organization", slug: "acme", connectionName: undefined }],
    [{ connection: "acme.test" }, { by: "domain", domain: "acme.test" }],
    // A connection name alone (spaces, capitals kept apart) routes nowhere.
    [{ connection: "Acme Okta" }, { by: "unroutable" }],
    [
      { organization: "Acme", connection: "Acme Okta" },
      { by: "organization", slug: "acme", connectionName: "Acme Okta" },
    ],
    [{ organization: "acme" }, { by: "organization", slug: "acme", connectionName: undefined }],
    [{ organization: "not a slug" }, { by: "unroutable" }],
    [{ email: "not-an-email@" }, { by: "unroutable" }],
    [{ email: "a@\u212Aelvin.test" }, { by: "unroutable" }],
    [{}, { by: "nothing" }],
  ];
  for (const [entry, expected] of cases) {
    test(`${JSON.stringify(entry)} → ${JSON.stringify(expected)}`, () =>
      assert.deepEqual(routeSsoEntry({ ...none, ...entry }), expected));
  }
});

describe("/sso/start routes only by names an organization cannot take from another", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp({
      env: { GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "1000" },
    }));
    const acme = await seedAcme(gh);
    await createConnection(gh.ctx, {
      organizationId: acme.organizationId,
      input: acmeOktaInput(idp),
      actorUserId: acme.adminUserId,
    });
    // Evil's connection is named after Acme's slug, and another after Acme itself: a squatter's names.
    const evil = await createOrganizationWithAdmin(gh.ctx, {
      slug: "evil",
      name: "Evil",
      adminEmail: "admin@evil.test",
      adminPassword: ADMIN.password,
    });
    await verifyDomainsAsOperator(gh, evil.organization.id, ["evil.test", "evil-eu.test"]);
    for (const [name, domain] of [
      ["acme", "evil.test"],
      ["Acme SSO", "evil-eu.test"],
    ] as const) {
      await createConnection(gh.ctx, {
        organizationId: evil.organization.id,
        input: {
          name,
          issuer: idp.issuer,
          clientId: "gatehouse-linkedin",
          clientSecret: "gatehouse-linkedin-secret",
          domains: [domain],
        },
        actorUserId: evil.adminUserId,
      });
    }
  });
  after(async () => {
    await gh.close();
    await idp.close();
  });

  async function start(query: string) {
    return new Browser().get(`${gh.url}/sso/start?${query}`);
  }
  function clientOf(location: string | undefined): string | null {
    return location ? new URL(location).searchParams.get("client_id") : null;
  }

  test("Acme's slug goes to Acme's connection, even when another organization named its connection so", async () => {
    for (const query of ["connection=acme", "email=acme", "organization=acme", "connection=ACME"]) {
      const answer = await start(query);
      assert.equal(answer.status, 302, query);
      assert.equal(clientOf(answer.location), "gatehouse-okta", query);
    }
  });

  test("a connection name alone routes nowhere, whoever owns it", async () => {
    for (const query of ["connection=Acme%20SSO", "connection=Acme%20Okta", "email=Acme%20SSO"]) {
      const answer = await start(query);
      assert.equal(answer.status, 404, query);
      assert.equal(answer.location, undefined, query);
    }
  });

  test("an organization's sign-in URL names only its own connections", async () => {
    const own = await start("organization=acme&connection=Acme%20Okta");
    assert.equal(own.status, 302);
    assert.equal(clientOf(own.location), "gatehouse-okta");
    const other = await start("organization=acme&connection=Acme%20SSO");
    assert.equal(other.status, 404);
    const evil = await start("organization=evil&connection=Acme%20SSO");
    assert.equal(clientOf(evil.location), "gatehouse-linkedin");
  });

  test("a verified domain routes to the connection of the organization that verified it", async () => {
    const answer = await start("connection=acme.test");
    assert.equal(clientOf(answer.location), "gatehouse-okta");
    const email = await start("email=alice%40acme.test");
    assert.equal(clientOf(email.location), "gatehouse-okta");
    assert.equal(new URL(email.location ?? "http://x").searchParams.get("login_hint"), "alice@acme.test");
  });

  test("Administration shows the organization's sign-in link, and it routes to the organization's own connections", async () => {
    const admin = await gh.ctx.store.db
      .selectFrom("users")
      .innerJoin("memberships", "memberships.user_id", "users.id")
      .select(["users.id", "memberships.organization_id"])
      .where("users.email", "=", "admin@evil.test")
      .executeTakeFirstOrThrow();
    const token = randomToken();
    const now = gh.ctx.now();
    await insertSession(gh.ctx.store.db, {
      idHash: hashToken(token),
      userId: admin.id,
      organizationId: admin.organization_id,
      method: "password",
      connectionId: null,
      idTokenSealed: null,
      idpSid: null,
      createdAt: now,
      expiresAt: now + 3600_000,
    });
    const browser = new Browser();
    browser.cookies().set(sessionCookieName(gh.ctx.config), token);
    const page = await browser.get(`${gh.url}/admin`);
    const link = /id="sign-in-url" type="text" value="([^"]+)"/.exec(page.body)?.[1];
    assert.equal(link, `${gh.url}/sso/start?organization=evil`);
    const answer = await new Browser().get(link ?? "");
    assert.equal(answer.status, 200, "Evil has two connections: the person chooses");
    assert.match(answer.body, /Continue with Acme SSO/);
  });

  test("an organization with several connections lets the person choose among its own", async () => {
    const answer = await start("organization=evil");
    assert.equal(answer.status, 200);
    const links = [...answer.body.matchAll(/href="(\/sso\/start\?[^"]+)"/g)].map((m) =>
      m[1]?.replaceAll("&amp;", "&"),
    );
    assert.deepEqual(links, [
      "/sso/start?organization=evil&connection=acme",
      "/sso/start?organization=evil&connection=Acme+SSO",
    ]);
    const chosen = await new Browser().get(`${gh.url}${links[1]}`);
    assert.equal(clientOf(chosen.location), "gatehouse-linkedin");
  });
});

test("POST /login counts against the lookup limit before the domain is looked up", async () => {
  const { gh, idp } = await startGatehouseWithIdp({ env: { GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "3" } });
  try {
    const acme = await seedAcme(gh);
    await createConnection(gh.ctx, {
      organizationId: acme.organizationId,
      input: acmeOktaInput(idp),
      actorUserId: acme.adminUserId,
    });
    const browser = new Browser();
    const page = await browser.get(`${gh.url}/login`);
    const post = (email: string) => browser.post(`${gh.url}/login`, { _csrf: csrfToken(page.body), email });
    // Answered while under the limit: SSO for acme.test, the password step elsewhere.
    assert.equal((await post("alice@acme.test")).status, 303);
    assert.equal((await post("bob@nowhere.test")).status, 200);
    assert.equal((await post("carol@nowhere.test")).status, 200);
    // Past it, a domain with SSO and one without answer the same 429, without being looked up.
    const withSso = await post("alice@acme.test");
    const without = await post("bob@nowhere.test");
    assert.equal(withSso.status, 429);
    assert.equal(without.status, 429);
    assert.equal(withSso.location, undefined);
    assert.equal(withSso.body.length > 0, true);
    // /sso/start shares the count: the same question cannot be asked there instead.
    assert.equal((await browser.get(`${gh.url}/sso/start?email=alice%40acme.test`)).status, 429);
  } finally {
    await gh.close();
    await idp.close();
  }
});
