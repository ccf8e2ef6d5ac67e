import assert from "node:assert/strict";
import { test } from "node:test";
import {
  deleteConnectionRow,
  findConnection,
  findConnectionById,
  findConnectionByName,
  findEnabledConnectionForDomain,
  insertConnection,
  listConnections,
  setConnectionStatus,
} from "../../src/store/connections.js";
import { insertIdentity } from "../../src/store/identities.js";
import { insertLoginTransaction } from "../../src/store/login-transactions.js";
import { findActiveSession, insertSession } from "../../src/store/sessions.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import {
  hour,
  isUniqueViolation,
  minute,
  newSession,
  oidcOf,
  seedConnection,
  seedMember,
  seedOrganization,
  t0,
} from "./fixtures.js";

/** Which connection lists `domain`, if any (connection_domains, whatever the verification state). */
async function listingOf(
  db: import("kysely").Kysely<import("../../src/store/schema.js").Database>,
  domain: string,
): Promise<{ connectionId: string; organizationId: string } | undefined> {
  return db
    .selectFrom("connection_domains")
    .select(["connection_id as connectionId", "organization_id as organizationId"])
    .where("domain", "=", domain.toLowerCase())
    .executeTakeFirst();
}

withEachDatabase("store: connections", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("a connection is inserted with its domains and read back whole", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const id = await seedConnection(db, acme, {
      name: "Acme Okta",
      domains: ["acme.test", "acme-corp.test"],
    });
    const connection = await findConnectionById(db, id);
    assert.deepEqual(connection, {
      id,
      organizationId: acme.id,
      protocol: "oidc",
      name: "Acme Okta",
      oidc: {
        issuer: "https://idp.example.test",
        clientId: "gatehouse",
        clientSecretSealed: "sealed:v1:opaque",
        tokenEndpointAuthMethod: "client_secret_basic",
        scopes: "openid email profile",
        emailClaim: "email",
        clockSkewSeconds: 60,
        signingKeySealed: null,
        signingKid: null,
        idTokenIssuer: null,
        allowedTenants: [],
      },
      status: "enabled",
      domains: ["acme-corp.test", "acme.test"],
      domainStatuses: [
        { organizationId: acme.id, domain: "acme-corp.test", state: "verified", failingSince: null },
        { organizationId: acme.id, domain: "acme.test", state: "verified", failingSince: null },
      ],
      createdByUserId: null,
      createdAt: t0,
      updatedAt: t0,
      roles: { groupsClaim: "groups", rules: [], defaultRole: "member" },
    });
    assert.deepEqual(await findConnection(db, acme.id, id), connection);
    assert.equal(await findConnectionById(db, "no-such-id"), undefined);
  });

  test("a connection's provider settings round-trip", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const settings = {
      tokenEndpointAuthMethod: "private_key_jwt" as const,
      emailClaim: "preferred_username",
      clockSkewSeconds: 120,
      signingKeySealed: "sealed:v1:jwk",
      signingKid: "kid-1",
      idTokenIssuer: "https://login.example.test/tenant-1/v2.0",
      allowedTenants: ["6f1d3a52-8c4e-4b7a-9d21-3e5f0a7b1c9d", "e2a9c8b7-1d3f-4e5a-8b6c-7d8e9f0a1b2c"],
    };
    await insertConnection(
      db,
      {
        id: "entra",
        organizationId: acme.id,
        name: "Acme Entra",
        domains: ["acme.test"],
        createdByUserId: null,
        protocol: "oidc",
        oidc: {
          issuer: "https://login.example.test/{tenantid}/v2.0",
          clientId: "gatehouse",
          clientSecretSealed: "sealed:v1:opaque",
          scopes: "openid email profile",
          ...settings,
        },
      },
      t0,
    );
    const { issuer, clientId, clientSecretSealed, scopes, ...stored } = oidcOf(
      await findConnectionById(db, "entra"),
    );
    assert.deepEqual(stored, settings);
    assert.deepEqual(
      [issuer, clientId, clientSecretSealed, scopes],
      ["https://login.example.test/{tenantid}/v2.0", "gatehouse", "sealed:v1:opaque", "openid email profile"],
    );
  });

  test("findConnection and listConnections see only the organization's own", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const second = await seedConnection(db, acme, { domains: ["b.acme.test"], createdAt: t0 + minute });
    const first = await seedConnection(db, acme, { domains: ["a.acme.test"], createdAt: t0 });
    const theirs = await seedConnection(db, globex, { domains: ["globex.test"] });
    assert.equal(await findConnection(db, acme.id, theirs), undefined);
    const listed = await listConnections(db, acme.id);
    assert.deepEqual(
      listed.map((c) => [c.id, c.domains]),
      [
        [first, ["a.acme.test"]],
        [second, ["b.acme.test"]],
      ],
    );
    const empty = await seedOrganization(db, "empty");
    assert.deepEqual(await listConnections(db, empty.id), []);
  });

  test("a connection name is found, and is unique, whatever its case", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const id = await seedConnection(db, acme, { name: "Acme Okta", domains: ["acme.test"] });
    assert.equal((await findConnectionByName(db, "  ACME okta "))?.id, id);
    assert.equal(await findConnectionByName(db, "Acme Entra"), undefined);
    await assert.rejects(
      seedConnection(db, globex, { name: "ACME OKTA", domains: ["globex.test"] }),
      isUniqueViolation,
    );
    // The transaction took the domains back with the refused connection.
    assert.equal(await listingOf(db, "globex.test"), undefined);
    assert.equal((await listConnections(db, globex.id)).length, 0);
  });

  test("a domain claimed twice violates its key, and the second connection does not land", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    await seedConnection(db, acme, { domains: ["acme.test"] });
    await assert.rejects(
      seedConnection(db, globex, { domains: ["globex.test", "acme.test"] }),
      isUniqueViolation,
    );
    assert.deepEqual(await listConnections(db, globex.id), []);
    assert.equal(await listingOf(db, "globex.test"), undefined);
  });

  test("a listed domain names the connection and organization, enabled or not", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const id = await seedConnection(db, acme, { domains: ["acme.test"] });
    await setConnectionStatus(db, id, "disabled", t0 + minute);
    assert.deepEqual(await listingOf(db, "ACME.test"), { connectionId: id, organizationId: acme.id });
    assert.equal(await listingOf(db, "globex.test"), undefined);
  });

  test("findEnabledConnectionForDomain routes by domain and ignores disabled connections", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const id = await seedConnection(db, acme, { name: "Acme Okta", domains: ["acme.test", "acme.example"] });
    const found = await findEnabledConnectionForDomain(db, "Acme.Example", t0);
    assert.equal(found?.id, id);
    assert.equal(found?.organizationName, acme.name);
    assert.deepEqual(found?.domains, ["acme.example", "acme.test"]);
    assert.equal(found?.createdAt, t0);

    await setConnectionStatus(db, id, "disabled", t0 + hour);
    assert.equal(await findEnabledConnectionForDomain(db, "acme.test", t0), undefined);
    const disabled = await findConnectionById(db, id);
    assert.equal(disabled?.status, "disabled");
    assert.equal(disabled?.updatedAt, t0 + hour);

    await setConnectionStatus(db, id, "enabled", t0 + 2 * hour);
    assert.equal((await findEnabledConnectionForDomain(db, "acme.test", t0))?.id, id);
    assert.equal(await findEnabledConnectionForDomain(db, "globex.test", t0), undefined);
  });

  test("deleteConnectionRow takes domains, identities and login transactions with it and detaches sessions", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test");
    const id = await seedConnection(db, acme, { name: "Acme Okta", domains: ["acme.test"] });
    const keep = await seedConnection(db, acme, { name: "Acme Entra", domains: ["acme.example"] });
    const providerKey = (connectionId: string) => `connection:${connectionId}`;
    await insertIdentity(
      db,
      {
        id: "i-gone",
        userId: ada.id,
        providerKey: providerKey(id),
        connectionId: id,
        subject: "s",
        email: null,
      },
      t0,
    );
    await insertIdentity(
      db,
      {
        id: "i-kept",
        userId: ada.id,
        providerKey: providerKey(keep),
        connectionId: keep,
        subject: "s",
        email: null,
      },
      t0,
    );
    const tx = {
      protocol: "oidc",
      browser_hash: "browser",
      payload: "{}",
      return_to: "/",
      created_at: t0,
      expires_at: t0 + 10 * minute,
      consumed_at: null,
    };
    await insertLoginTransaction(db, { ...tx, id: "tx-gone", connection_id: id });
    await insertLoginTransaction(db, { ...tx, id: "tx-kept", connection_id: keep });
    const session = newSession(ada, {
      organizationId: acme.id,
      method: "sso",
      connectionId: id,
      idTokenSealed: "eyJ",
    });
    await insertSession(db, session);

    assert.equal(await deleteConnectionRow(db, acme.id, id), true);

    assert.equal(await findConnectionById(db, id), undefined);
    assert.equal(await listingOf(db, "acme.test"), undefined);
    assert.deepEqual(await db.selectFrom("connection_domains").select("domain").execute(), [
      { domain: "acme.example" },
    ]);
    assert.deepEqual(await db.selectFrom("identities").select("id").execute(), [{ id: "i-kept" }]);
    assert.deepEqual(await db.selectFrom("login_transactions").select("id").execute(), [{ id: "tx-kept" }]);
    const active = await findActiveSession(db, session.idHash, t0 + minute);
    assert.equal(active?.connectionId, null);
    assert.equal(active?.connectionName, null);
    assert.equal(active?.method, "sso");
    assert.equal(await deleteConnectionRow(db, acme.id, id), false);
  });

  test("deleteConnectionRow refuses another organization's connection", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const id = await seedConnection(db, acme, { domains: ["acme.test"] });
    assert.equal(await deleteConnectionRow(db, globex.id, id), false);
    assert.equal((await findConnectionById(db, id))?.domains[0], "acme.test");
  });
});
