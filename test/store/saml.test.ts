import assert from "node:assert/strict";
import { test } from "node:test";
import {
  findSamlSettings,
  insertSamlSettings,
  type NewSamlSettings,
  updateSamlSettings,
} from "../../src/store/connection-saml.js";
import {
  deleteConnectionRow,
  findConnectionById,
  insertConnection,
  listConnections,
  updateConnectionRow,
} from "../../src/store/connections.js";
import { openStore } from "../../src/store/database.js";
import { purgeAssertionIds, rememberAssertionId } from "../../src/store/saml-assertion-ids.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { minute, seedConnection, seedOrganization, t0 } from "./fixtures.js";

const settings: NewSamlSettings = {
  entityId: "https://idp.acme.test/metadata",
  ssoUrl: "https://idp.acme.test/sso",
  signingCertificates: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "second"],
  spPrivateKeySealed: "v1.k.iv.ct.tag",
  spCertificate: "-----BEGIN CERTIFICATE-----\nSP\n-----END CERTIFICATE-----\n",
};

withEachDatabase("store: SAML connections and assertion IDs", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("a connection's SAML settings read back as inserted, with defaults, and update field by field", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const id = await seedConnection(db, acme, { domains: ["acme.test"] });
    await insertSamlSettings(db, id, settings);
    assert.deepEqual(await findSamlSettings(db, id), {
      ...settings,
      sloUrl: null,
      sloResponseUrl: null,
      wantAuthnRequestsSigned: false,
      allowIdpInitiated: false,
      emailAttribute: null,
      nameAttribute: null,
      groupsAttribute: null,
      metadataUrl: null,
    });
    await updateSamlSettings(db, id, {
      sloUrl: "https://idp.acme.test/slo",
      sloResponseUrl: "https://idp.acme.test/slo/return",
      allowIdpInitiated: true,
      groupsAttribute: "memberOf",
      signingCertificates: ["only"],
    });
    const updated = await findSamlSettings(db, id);
    assert.equal(updated?.sloUrl, "https://idp.acme.test/slo");
    assert.equal(updated?.sloResponseUrl, "https://idp.acme.test/slo/return");
    assert.equal(updated?.allowIdpInitiated, true);
    assert.equal(updated?.groupsAttribute, "memberOf");
    assert.deepEqual(updated?.signingCertificates, ["only"]);
    assert.equal(updated?.entityId, settings.entityId, "fields not named are kept");
  });

  test("a SAML connection is a common row plus its settings, read in the same query as OIDC ones", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const oidc = await seedConnection(db, acme, { domains: ["acme.test"] });
    await db.transaction().execute((trx) =>
      insertConnection(
        trx,
        {
          id: "saml-1",
          organizationId: acme.id,
          name: "Acme ADFS",
          domains: ["adfs.acme.test"],
          createdByUserId: null,
          protocol: "saml",
          saml: { ...settings, allowIdpInitiated: true, groupsAttribute: "Group" },
        },
        t0,
      ),
    );
    const saml = await findConnectionById(db, "saml-1");
    assert.equal(saml?.protocol, "saml");
    assert.ok(saml?.protocol === "saml");
    assert.equal(saml.saml.entityId, settings.entityId);
    assert.equal(saml.saml.allowIdpInitiated, true);
    assert.equal(saml.saml.groupsAttribute, "Group");
    assert.deepEqual(saml.domains, ["adfs.acme.test"]);
    const listed = await listConnections(db, acme.id);
    assert.deepEqual(listed.map((c) => c.protocol).sort(), ["oidc", "saml"]);
    assert.equal(listed.find((c) => c.id === oidc)?.protocol, "oidc");

    const changed = await db
      .transaction()
      .execute((trx) =>
        updateConnectionRow(
          trx,
          "saml-1",
          saml.updatedAt,
          { saml: { ssoUrl: "https://new.test/sso" } },
          t0 + 1,
        ),
      );
    assert.equal(changed, true);
    const updated = await findConnectionById(db, "saml-1");
    assert.equal(updated?.protocol === "saml" ? updated.saml.ssoUrl : undefined, "https://new.test/sso");
  });

  test("deleting the connection deletes its SAML settings", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const id = await seedConnection(db, acme, { domains: ["acme.test"] });
    await insertSamlSettings(db, id, settings);
    await db.transaction().execute((trx) => deleteConnectionRow(trx, acme.id, id));
    assert.equal(await findSamlSettings(db, id), undefined);
  });

  test("an assertion is remembered once: the second time is a replay, until it is purged after expiry", async () => {
    const { db } = database().store;
    const assertion = {
      issuer: "https://idp.acme.test/metadata",
      assertionId: "_a1",
      expiresAt: t0 + 5 * minute,
    };
    assert.equal(await rememberAssertionId(db, assertion), true);
    assert.equal(await rememberAssertionId(db, assertion), false);
    // The same ID from another issuer is another assertion.
    assert.equal(await rememberAssertionId(db, { ...assertion, issuer: "https://other.test" }), true);
    assert.equal(await purgeAssertionIds(db, t0 + 5 * minute), 0, "kept until its expiry");
    assert.equal(await purgeAssertionIds(db, t0 + 5 * minute + 1), 2);
    assert.equal(await rememberAssertionId(db, assertion), true);
  });

  test("of concurrent inserts of one assertion exactly one wins", async () => {
    const { db } = database().store;
    const assertion = {
      issuer: "https://idp.acme.test/metadata",
      assertionId: "_raced",
      expiresAt: t0 + minute,
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => rememberAssertionId(db, assertion)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  if (dialect.name === "postgres") {
    test("an assertion accepted through one instance is a replay through another", async () => {
      const first = database();
      const second = openStore(first.url);
      try {
        const assertion = { issuer: "https://idp.test", assertionId: "_shared", expiresAt: t0 + minute };
        assert.equal(await rememberAssertionId(first.store.db, assertion), true);
        assert.equal(await rememberAssertionId(second.db, assertion), false);
      } finally {
        await second.close();
      }
    });
  }
});
