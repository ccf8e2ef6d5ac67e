import assert from "node:assert/strict";
import { test } from "node:test";
import { findConnectionById, findEnabledConnectionForDomain } from "../../src/store/connections.js";
import { migrateToLatest, migrateUpTo } from "../../src/store/database.js";
import { listDomains } from "../../src/store/domains.js";
import type { Database } from "../../src/store/schema.js";
import { withEachDatabase } from "../support/databases.js";
import { t0 } from "./fixtures.js";

withEachDatabase("store: upgrading to organization domains (0005-domains)", (dialect) => {
  test("a deployment at 0003 keeps its connections' domains working, except public mail domains", async () => {
    const database = await dialect.create({ migrate: false });
    const { db } = database.store;
    await migrateUpTo(database.store, "0003-login-transaction-browser-index");
    // Data as a deployment before domain verification holds it, with the columns of that version.
    await db
      .insertInto("organizations")
      .values({ id: "org-acme", slug: "acme", name: "Acme", created_at: t0 })
      .execute();
    await db
      .insertInto("organizations")
      .values({ id: "org-evil", slug: "evil", name: "Evil", created_at: t0 })
      .execute();
    // A row as of migration 0005, before the columns later migrations add.
    const connection = (id: string, organization_id: string, name: string) =>
      ({
        id,
        organization_id,
        type: "oidc" as const,
        name,
        name_key: name.toLowerCase(),
        issuer: "https://idp.example.test",
        client_id: "gatehouse",
        client_secret_sealed: "sealed:v1:opaque",
        token_endpoint_auth_method: "client_secret_basic" as const,
        scopes: "openid email profile",
        status: "enabled" as const,
        created_by_user_id: null,
        created_at: t0,
        updated_at: t0,
        email_claim: "email",
        clock_skew_seconds: 60,
        signing_key_sealed: null,
        signing_kid: null,
        id_token_issuer: null,
      }) as unknown as Database["connections"];
    await db
      .insertInto("connections")
      .values(connection("conn-acme", "org-acme", "Acme Okta"))
      .execute();
    await db
      .insertInto("connections")
      .values(connection("conn-evil", "org-evil", "Evil IdP"))
      .execute();
    await db
      .insertInto("connection_domains")
      .values([
        { domain: "acme.test", connection_id: "conn-acme", organization_id: "org-acme" },
        { domain: "acme.example", connection_id: "conn-acme", organization_id: "org-acme" },
        { domain: "gmail.com", connection_id: "conn-evil", organization_id: "org-evil" },
      ])
      .execute();

    const { applied } = await migrateToLatest(database.store);
    assert.ok(applied.includes("0005-domains"));

    const acmeDomains = await listDomains(db, "org-acme");
    assert.deepEqual(
      acmeDomains.map((d) => [d.domain, d.state, d.verifiedBy, d.verifiedByUserId]),
      [
        ["acme.example", "verified", "operator", null],
        ["acme.test", "verified", "operator", null],
      ],
    );
    for (const d of acmeDomains) assert.ok(Buffer.from(d.verificationToken, "base64url").length >= 16);
    assert.deepEqual(
      (await listDomains(db, "org-evil")).map((d) => [d.domain, d.state, d.verifiedBy]),
      [["gmail.com", "pending", null]],
    );
    // The connections still list their domains; acme's route, the gmail.com claim does not.
    assert.deepEqual((await findConnectionById(db, "conn-acme"))?.domains, ["acme.example", "acme.test"]);
    assert.deepEqual((await findConnectionById(db, "conn-evil"))?.domains, ["gmail.com"]);
    const now = Date.now();
    assert.equal((await findEnabledConnectionForDomain(db, "acme.test", now))?.id, "conn-acme");
    assert.equal(await findEnabledConnectionForDomain(db, "gmail.com", now), undefined);

    // Each carried-over domain is in the audit log with the reason, so the operator can review them.
    const events = await db
      .selectFrom("audit_events")
      .select(["organization_id", "type", "connection_id", "detail"])
      .orderBy("organization_id")
      .execute();
    assert.equal(events.length, 3);
    const gmail = events.find((e) => e.organization_id === "org-evil");
    assert.equal(gmail?.type, "domain.added");
    assert.match(gmail?.detail ?? "", /left pending: a public email provider/);
    for (const e of events.filter((x) => x.organization_id === "org-acme")) {
      assert.equal(e.type, "domain.verified");
      assert.equal(e.connection_id, "conn-acme");
      assert.match(e.detail ?? "", /"by":"operator".*"migration":"0005-domains"/);
    }
    await database.drop();
  });
});
