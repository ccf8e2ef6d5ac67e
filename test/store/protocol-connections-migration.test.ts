import assert from "node:assert/strict";
import { test } from "node:test";
import { type Kysely, sql } from "kysely";
import {
  deleteConnectionRow,
  findConnectionById,
  findEnabledConnectionForDomain,
} from "../../src/store/connections.js";
import { migrateToLatest, migrateUpTo } from "../../src/store/database.js";
import { withEachDatabase } from "../support/databases.js";
import { t0 } from "./fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: rows as of migration 0019, before the schema types changed
type AnyDb = Kysely<any>;

/** A deployment at 0019: OpenID Connect settings on `connections`, with what points at it. */
async function seedAt0019(db: AnyDb): Promise<void> {
  await db
    .insertInto("organizations")
    .values({ id: "org-acme", slug: "acme", name: "Acme", created_at: t0 })
    .execute();
  const connection = (id: string, name: string, extra: Record<string, unknown>) => ({
    id,
    organization_id: "org-acme",
    type: "oidc",
    name,
    name_key: name.toLowerCase(),
    issuer: `https://${id}.example.test`,
    client_id: `client-${id}`,
    client_secret_sealed: `v1.sealed-${id}`,
    token_endpoint_auth_method: null,
    scopes: "openid email profile",
    status: "enabled",
    created_by_user_id: null,
    created_at: t0,
    updated_at: t0,
    ...extra,
  });
  // One insert each: SQLite has no DEFAULT in a multi-row VALUES list.
  for (const row of [
    connection("okta", "Acme Okta", {
      role_rules: '[{"group":"admins","role":"admin"}]',
      groups_claim: "roles",
    }),
    connection("entra", "Acme Entra", {
      token_endpoint_auth_method: "private_key_jwt",
      email_claim: "preferred_username",
      clock_skew_seconds: 120,
      signing_key_sealed: "v1.sealed-key",
      signing_kid: "kid-1",
      id_token_issuer: "https://login.example.test/{tenantid}/v2.0",
      allowed_tenants: "tenant-a tenant-b",
      status: "disabled",
    }),
  ]) {
    await db.insertInto("connections").values(row).execute();
  }
  await db
    .insertInto("organization_domains")
    .values({
      id: "dom-acme",
      organization_id: "org-acme",
      domain: "acme.test",
      state: "verified",
      verification_token: "token",
      verified_at: t0,
      verified_by: "operator",
      created_at: t0,
    })
    .execute();
  await db
    .insertInto("connection_domains")
    .values({ domain: "acme.test", connection_id: "okta", organization_id: "org-acme" })
    .execute();
  await db
    .insertInto("users")
    .values({ id: "user-1", email: "ada@acme.test", name: null, created_at: t0 })
    .execute();
  await db
    .insertInto("identities")
    .values({
      id: "identity-1",
      user_id: "user-1",
      provider_key: "connection:okta",
      connection_id: "okta",
      subject: "sub-1",
      email: "ada@acme.test",
      created_at: t0,
      last_sign_in_at: t0,
    })
    .execute();
}

withEachDatabase("store: connections split by protocol (0020-protocol-connections)", (dialect) => {
  test("connections made before 0020 keep every OpenID Connect setting, their domains and identities", async () => {
    const database = await dialect.create({ migrate: false });
    const { db } = database.store;
    await migrateUpTo(database.store, "0019-session-hardening");
    await seedAt0019(db as unknown as AnyDb);

    const { applied } = await migrateToLatest(database.store);
    assert.ok(applied.includes("0020-protocol-connections"));

    const okta = await findConnectionById(db, "okta");
    assert.equal(okta?.protocol, "oidc");
    assert.deepEqual(okta?.oidc, {
      issuer: "https://okta.example.test",
      clientId: "client-okta",
      clientSecretSealed: "v1.sealed-okta",
      tokenEndpointAuthMethod: null,
      scopes: "openid email profile",
      emailClaim: "email",
      clockSkewSeconds: 60,
      signingKeySealed: null,
      signingKid: null,
      idTokenIssuer: null,
      allowedTenants: [],
    });
    assert.deepEqual(okta?.roles, {
      groupsClaim: "roles",
      rules: [{ group: "admins", role: "admin" }],
      defaultRole: "member",
    });
    assert.deepEqual(okta?.domains, ["acme.test"]);
    assert.equal((await findEnabledConnectionForDomain(db, "acme.test", t0))?.id, "okta");

    const entra = await findConnectionById(db, "entra");
    assert.equal(entra?.status, "disabled");
    assert.equal(entra?.protocol, "oidc");
    assert.deepEqual(entra?.protocol === "oidc" ? entra.oidc : undefined, {
      issuer: "https://entra.example.test",
      clientId: "client-entra",
      clientSecretSealed: "v1.sealed-entra",
      tokenEndpointAuthMethod: "private_key_jwt",
      scopes: "openid email profile",
      emailClaim: "preferred_username",
      clockSkewSeconds: 120,
      signingKeySealed: "v1.sealed-key",
      signingKid: "kid-1",
      idTokenIssuer: "https://login.example.test/{tenantid}/v2.0",
      allowedTenants: ["tenant-a", "tenant-b"],
    });

    // The common row kept no OpenID Connect column.
    const columns = Object.keys(
      (await sql`select * from connections where id = 'okta'`.execute(db)).rows[0] as object,
    );
    assert.deepEqual(
      columns.filter((c) => ["type", "issuer", "client_id", "client_secret_sealed"].includes(c)),
      [],
    );
    assert.ok(columns.includes("protocol"));

    // Deleting the connection still takes its settings, domains and identities with it.
    assert.equal(await deleteConnectionRow(db, "org-acme", "okta"), true);
    assert.equal(
      (
        await db
          .selectFrom("connection_oidc")
          .select("connection_id")
          .where("connection_id", "=", "okta")
          .execute()
      ).length,
      0,
    );
    assert.equal((await db.selectFrom("connection_domains").selectAll().execute()).length, 0);
    assert.equal((await db.selectFrom("identities").selectAll().execute()).length, 0);
    assert.equal((await findConnectionById(db, "entra"))?.name, "Acme Entra");
    await database.drop();
  });
});
