/**
 * The credentials check at Create: a token request with a code that cannot exist, before
 * anything is saved. `invalid_grant` means the client authenticated; `invalid_client` or a
 * 401 means it did not; anything else cannot tell. A provider that failed discovery is never
 * sent credentials.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { createConnection } from "../../src/connections/create.js";
import type { ConnectionInput } from "../../src/connections/validate.js";
import { isGatehouseError } from "../../src/errors.js";
import { findConnectionById, listConnections } from "../../src/store/connections.js";
import { oidcOf } from "../store/fixtures.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";
import { type HostileProvider, startHostileProvider } from "./provider.js";

let gh: TestGatehouse;
let organizationId: string;
let op: HostileProvider | undefined;
before(async () => {
  gh = await startGatehouse();
  ({ organizationId } = await seedAcme(gh));
});
afterEach(async () => {
  for (const c of await listConnections(gh.ctx.store.db, organizationId)) {
    await gh.ctx.store.db.deleteFrom("connections").where("id", "=", c.id).execute();
  }
  await op?.close();
  op = undefined;
});
after(async () => {
  await gh.close();
});

async function provider(metadata: Record<string, unknown> = {}): Promise<HostileProvider> {
  op = await startHostileProvider({ redirectUri: `${gh.url}/sso/oidc/callback` });
  op.set({ metadata });
  return op;
}

async function create(p: HostileProvider, settings: Partial<ConnectionInput> = {}) {
  const created = await createConnection(gh.ctx, {
    organizationId,
    input: {
      name: "Probe OP",
      issuer: p.issuer,
      clientId: p.clientId,
      clientSecret: p.clientSecret,
      domains: ["acme.test"],
      ...settings,
    },
    actorUserId: null,
  });
  const { connection, credentialsNote } = created;
  assert.ok(connection.type === "oidc");
  return { connection, credentialsNote };
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isGatehouseError(error), `expected a refusal, got ${String(error)}`);
  return error;
}

test("right credentials: the method that authenticated is stored, one probe", async () => {
  const p = await provider();
  const { connection, credentialsNote } = await create(p);
  assert.equal(connection.tokenEndpointAuthMethod, "client_secret_basic");
  assert.equal(credentialsNote, undefined);
  assert.equal(p.calls.token, 1);
});

test("auto tries the advertised methods in turn and stores the one that works", async () => {
  const p = await provider({ token_endpoint_auth_methods_supported: ["client_secret_post"] });
  const { connection } = await create(p);
  assert.equal(connection.tokenEndpointAuthMethod, "client_secret_post");
  assert.deepEqual(
    p.tokenRequests.map((r) => r.authMethod),
    ["client_secret_post"],
  );
});

test("a wrong secret is refused before anything is saved, quoting the provider's answer", async () => {
  const p = await provider();
  const error = await refusal(create(p, { clientSecret: "wrong-secret" }));
  assert.equal(error.code, "VALIDATION_FAILED");
  assert.match(error.fields?.clientSecret ?? "", /HTTP 401: invalid_client/);
  assert.match(error.fields?.clientSecret ?? "", /client_secret_basic.*client_secret_post/);
  assert.equal(p.calls.token, 2, "both advertised methods were tried");
  assert.deepEqual(await listConnections(gh.ctx.store.db, organizationId), []);
});

test("an explicit method is probed alone", async () => {
  const p = await provider();
  const error = await refusal(
    create(p, { clientSecret: "wrong-secret", tokenEndpointAuthMethod: "client_secret_post" }),
  );
  assert.match(error.fields?.clientSecret ?? "", /client_secret_post/);
  assert.equal(p.calls.token, 1);
});

test("an answer that cannot tell keeps auto, with a note", async () => {
  const p = await provider();
  p.set({ metadata: { token_endpoint: `${p.issuer}/nowhere` } });
  const { connection, credentialsNote } = await create(p);
  assert.match(credentialsNote ?? "", /could not tell.*HTTP 404/);
  const stored = await findConnectionById(gh.ctx.store.db, connection.id);
  assert.equal(oidcOf(stored).tokenEndpointAuthMethod, null, "auto: chosen again at sign-in");
});

test("a provider that fails discovery is never sent the credentials", async () => {
  const p = await provider({ issuer: "https://elsewhere.example" });
  const error = await refusal(create(p));
  assert.equal(error.code, "SSO_ISSUER_MISMATCH");
  assert.equal(p.calls.token, 0);
});
