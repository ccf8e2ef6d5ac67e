import assert from "node:assert/strict";
import { test } from "node:test";
import { SecretBox } from "../../src/crypto/secret-box.js";
import { kyselyAdapter } from "../../src/provider/adapter.js";
import { insertApplication } from "../../src/store/applications.js";
import { deleteExpiredProviderRecords } from "../../src/store/provider-records.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { minute, t0 } from "./fixtures.js";

const box = new SecretBox({ id: "k1", bytes: Buffer.alloc(32, 7) });

/** oidc-provider's adapter contract, on each database: what a second instance must find. */
withEachDatabase("store: OpenID Provider records", (dialect) => {
  const database = useFreshDatabase(dialect);
  let now = t0;
  const adapterFor = () => kyselyAdapter({ store: database().store, box, now: () => now });

  test("upsert then find returns the payload; a second upsert replaces it", async () => {
    now = t0;
    const Adapter = adapterFor();
    const codes = new Adapter("AuthorizationCode");
    await codes.upsert("code-1", { grantId: "g1", accountId: "u1", scope: "openid" }, 60);
    assert.deepEqual(await codes.find("code-1"), { grantId: "g1", accountId: "u1", scope: "openid" });
    await codes.upsert("code-1", { grantId: "g1", accountId: "u1", scope: "openid email" }, 60);
    assert.equal((await codes.find("code-1"))?.scope, "openid email");
    // Models are separate namespaces: the same id in another model is another record.
    assert.equal(await new Adapter("AccessToken").find("code-1"), undefined);
  });

  test("a record past its expiry is not found, and the purge removes it", async () => {
    now = t0;
    const Adapter = adapterFor();
    const codes = new Adapter("AuthorizationCode");
    await codes.upsert("short", { grantId: "g" }, 60);
    await new Adapter("Session").upsert("forever", { uid: "s-uid" }, undefined);
    now = t0 + 2 * minute;
    assert.equal(await codes.find("short"), undefined);
    assert.ok(await new Adapter("Session").find("forever"), "records without expiry stay");
    assert.equal(await deleteExpiredProviderRecords(database().store.db, now), 1);
  });

  test("consume marks the record once, and find reports when", async () => {
    now = t0;
    const codes = new (adapterFor())("AuthorizationCode");
    await codes.upsert("code-2", { grantId: "g2" }, 60);
    await codes.consume("code-2");
    const consumedAt = (await codes.find("code-2"))?.consumed;
    assert.equal(consumedAt, Math.floor(t0 / 1000));
    now = t0 + 10_000;
    await codes.consume("code-2");
    assert.equal((await codes.find("code-2"))?.consumed, consumedAt, "the first consumption stands");
  });

  test("findByUid and findByUserCode look up by the indexed payload fields", async () => {
    now = t0;
    const Adapter = adapterFor();
    await new Adapter("Session").upsert("jti-1", { uid: "uid-1", accountId: "u1" }, 600);
    await new Adapter("DeviceCode").upsert("dc-1", { userCode: "ABCD-EFGH" }, 600);
    assert.equal((await new Adapter("Session").findByUid("uid-1"))?.accountId, "u1");
    assert.equal(await new Adapter("Interaction").findByUid("uid-1"), undefined);
    assert.ok(await new Adapter("DeviceCode").findByUserCode("ABCD-EFGH"));
  });

  test("destroy removes one record; revokeByGrantId removes every model's records of the grant", async () => {
    now = t0;
    const Adapter = adapterFor();
    await new Adapter("AuthorizationCode").upsert("c", { grantId: "g3" }, 60);
    await new Adapter("AccessToken").upsert("a", { grantId: "g3" }, 600);
    await new Adapter("RefreshToken").upsert("r", { grantId: "g3" }, 6000);
    await new Adapter("AccessToken").upsert("other", { grantId: "g4" }, 600);
    await new Adapter("AccessToken").destroy("other");
    assert.equal(await new Adapter("AccessToken").find("other"), undefined);
    await new Adapter("Grant").revokeByGrantId("g3");
    for (const [model, id] of [
      ["AuthorizationCode", "c"],
      ["AccessToken", "a"],
      ["RefreshToken", "r"],
    ] as const) {
      assert.equal(await new Adapter(model).find(id), undefined, `${model} revoked with its grant`);
    }
  });

  test("clients are the registered applications, with the secret opened from its seal", async () => {
    now = t0;
    await insertApplication(database().store.db, {
      clientId: "app-1",
      name: "Acme SaaS",
      clientSecretSealed: box.seal("s3cret", "application:app-1"),
      tokenEndpointAuthMethod: "client_secret_basic",
      applicationType: "web",
      redirectUris: ["https://app.example/callback"],
      postLogoutRedirectUris: [],
      backchannelLogoutUri: "https://app.example/backchannel",
      jwksUri: null,
      createdAt: t0,
    });
    const clients = new (adapterFor())("Client");
    const metadata = await clients.find("app-1");
    assert.equal(metadata?.client_secret, "s3cret");
    assert.deepEqual(metadata?.redirect_uris, ["https://app.example/callback"]);
    assert.equal(metadata?.backchannel_logout_session_required, true);
    assert.equal(await clients.find("app-2"), undefined);
    await assert.rejects(
      clients.upsert("app-3", {}, undefined),
      "applications are not registered dynamically",
    );
  });
});
