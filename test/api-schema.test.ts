import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import Fastify from "fastify";
import { Type } from "typebox";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { ConnectionView } from "../src/api/connections.js";
import { createApiKey, createOperatorApiKey } from "../src/api/keys.js";
import { decodeCursor, encodeCursor, readPage } from "../src/api/pagination.js";
import { API_PREFIX, registerApiRoutes } from "../src/api/routes.js";
import { IsoTime, Nullable, Organization, StringEnum, Uuid } from "../src/api/schemas.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";

let gh: TestGatehouse;
let acmeKey: string;
let globexKey: string;
let operatorKey: string;

before(async () => {
  gh = await startGatehouse();
  for (const slug of ["acme", "globex"]) {
    await createOrganizationWithAdmin(gh.ctx, {
      slug,
      name: slug,
      adminEmail: `admin@${slug}.test`,
      adminPassword: "correct horse battery",
    });
  }
  acmeKey = (await createApiKey(gh.ctx, "acme", "setup")).key;
  globexKey = (await createApiKey(gh.ctx, "globex", "setup")).key;
  operatorKey = (await createOperatorApiKey(gh.ctx, "platform")).key;
});
after(async () => gh?.close());

async function call(
  key: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${gh.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

describe("the OpenAPI document", () => {
  test("is valid OpenAPI 3.1", async () => {
    const document = (await call(undefined, "GET", `${API_PREFIX}/openapi.json`)).body;
    const validator = new Validator();
    const result = await validator.validate(document as never);
    assert.equal(validator.version, "3.1");
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  test("holds every route of the running app under /api/v1, with its schemas", async () => {
    const document = (await call(undefined, "GET", `${API_PREFIX}/openapi.json`)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    const registered: string[] = [];
    const app = Fastify();
    app.addHook("onRoute", (route) => {
      for (const method of [route.method].flat()) {
        if (method !== "HEAD" && route.url.startsWith(API_PREFIX)) {
          registered.push(`${method} ${route.url.replace(/:(\w+)/g, "{$1}")}`);
        }
      }
    });
    registerApiRoutes(app, gh.ctx);
    await app.ready();
    await app.close();
    assert.ok(registered.length >= 15, registered.join(", "));
    for (const route of registered) {
      const [method, path] = route.split(" ") as [string, string];
      const operation = document.paths[path]?.[method.toLowerCase()];
      assert.ok(operation, `${route} is not in the document`);
      assert.ok(
        Object.keys(operation.responses).some((status) => status.startsWith("2")),
        `${route} documents no answer`,
      );
    }
    for (const name of [
      "ConnectionView",
      "CreateConnectionRequest",
      "UpdateConnectionRequest",
      "ApiKey",
      "User",
      "AuditEvent",
      "Error",
    ]) {
      assert.ok(document.components.schemas[name], name);
    }
  });
});

describe("pagination", () => {
  test("a walk over the pages of a list meets every item once, and next is null on the last page", async () => {
    for (let i = 0; i < 6; i++) {
      assert.equal((await call(acmeKey, "POST", "/api/v1/api-keys", { name: `key ${i}` })).status, 201);
    }
    const all = (await call(acmeKey, "GET", "/api/v1/api-keys?limit=200")).body as {
      data: { id: string }[];
      next: string | null;
    };
    assert.equal(all.data.length, 7);
    assert.equal(all.next, null);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const query: string = after === null ? "limit=2" : `limit=2&after=${after}`;
      const page = (await call(acmeKey, "GET", `/api/v1/api-keys?${query}`)).body as {
        data: { id: string }[];
        next: string | null;
      };
      assert.ok(page.data.length <= 2);
      seen.push(...page.data.map((k) => k.id));
      after = page.next;
      pages++;
    } while (after !== null && pages < 10);
    assert.equal(pages, 4);
    assert.deepEqual(
      seen,
      all.data.map((k) => k.id),
    );
  });

  test("every list answers data and next, and refuses a cursor it did not write", async () => {
    for (const [key, path] of [
      [acmeKey, "/api/v1/connections"],
      [acmeKey, "/api/v1/users"],
      [acmeKey, "/api/v1/events"],
      [acmeKey, "/api/v1/api-keys"],
      [operatorKey, "/api/v1/applications"],
    ] as const) {
      const first = await call(key, "GET", `${path}?limit=1`);
      assert.equal(first.status, 200, path);
      assert.ok(Array.isArray(first.body.data), path);
      assert.ok("next" in first.body, path);
      for (const bad of ["nonsense!", encodeCursor(["a"]), "e30"]) {
        const refused = await call(key, "GET", `${path}?after=${encodeURIComponent(bad)}`);
        assert.equal(refused.status, 400, `${path} ${bad}`);
        assert.deepEqual(Object.keys(refused.body.fields as object), ["after"]);
      }
      const tooMany = await call(key, "GET", `${path}?limit=201`);
      assert.deepEqual(Object.keys(tooMany.body.fields as object), ["limit"]);
    }
  });

  test("the events' next is the same page boundary as before and beforeId", async () => {
    const first = (await call(acmeKey, "GET", "/api/v1/events?limit=3")).body as {
      data: { id: string; createdAt: string }[];
      next: string;
    };
    const last = first.data.at(-1);
    assert.ok(last && first.next);
    const byCursor = (await call(acmeKey, "GET", `/api/v1/events?limit=3&after=${first.next}`)).body;
    const byTime = (
      await call(
        acmeKey,
        "GET",
        `/api/v1/events?limit=3&before=${encodeURIComponent(last.createdAt)}&beforeId=${last.id}`,
      )
    ).body;
    assert.deepEqual(byCursor, byTime);
  });

  test("cursors are read back only in the shape their list writes", () => {
    assert.deepEqual(decodeCursor(encodeCursor([1, "x"])), [1, "x"]);
    assert.equal(decodeCursor("%%%"), undefined);
    assert.deepEqual(readPage<[number, string]>({ after: encodeCursor([5, "id"]) }, ["number", "string"]), {
      limit: 50,
      after: [5, "id"],
    });
    assert.throws(() =>
      readPage<[number, string]>({ after: encodeCursor(["5", "id"]) }, ["number", "string"]),
    );
    assert.throws(() => readPage<[number, string]>({ after: encodeCursor([5]) }, ["number", "string"]));
  });
});

describe("Idempotency-Key", () => {
  test("a retried create answers the first answer; another body with the same key answers 422", async () => {
    const headers = { "idempotency-key": "retry-1" };
    const first = await call(acmeKey, "POST", "/api/v1/api-keys", { name: "deploy" }, headers);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get("idempotent-replayed"), null);
    const retry = await call(acmeKey, "POST", "/api/v1/api-keys", { name: "deploy" }, headers);
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal(retry.headers.get("location"), first.headers.get("location"));
    assert.deepEqual(retry.body, first.body);
    const keys = (await call(acmeKey, "GET", "/api/v1/api-keys?limit=200")).body.data as { name: string }[];
    assert.equal(keys.filter((k) => k.name === "deploy").length, 1);

    const other = await call(acmeKey, "POST", "/api/v1/api-keys", { name: "deploy 2" }, headers);
    assert.equal(other.status, 422);
    assert.equal(other.body.code, "IDEMPOTENCY_KEY_REUSED");

    // Keys are per caller: another organization's key with the same Idempotency-Key creates its own.
    const globex = await call(globexKey, "POST", "/api/v1/api-keys", { name: "deploy" }, headers);
    assert.equal(globex.status, 201);
    assert.equal(globex.headers.get("idempotent-replayed"), null);
    assert.notEqual(globex.body.id, first.body.id);
  });

  test("the kept answer is sealed at rest, since it holds the new key, and forgotten after 24 hours", async () => {
    const headers = { "idempotency-key": "sealed-1" };
    const created = await call(acmeKey, "POST", "/api/v1/api-keys", { name: "sealed" }, headers);
    const rows = await gh.ctx.store.db.selectFrom("idempotency_keys").selectAll().execute();
    assert.ok(rows.length > 0);
    for (const row of rows) assert.ok(!row.response_sealed?.includes(String(created.body.key)));
    gh.advance(24 * 3600 * 1000 + 1);
    const later = await call(acmeKey, "POST", "/api/v1/api-keys", { name: "sealed" }, headers);
    assert.equal(later.status, 201);
    assert.equal(later.headers.get("idempotent-replayed"), null);
    assert.notEqual(later.body.id, created.body.id);
  });

  test("a refused create does not keep its key: the corrected retry runs", async () => {
    const headers = { "idempotency-key": "fix-and-retry" };
    const refused = await call(acmeKey, "POST", "/api/v1/api-keys", { name: "  " }, headers);
    assert.equal(refused.status, 400);
    const again = await call(acmeKey, "POST", "/api/v1/api-keys", { name: "  " }, headers);
    assert.equal(again.status, 400);
    const invalidKey = await call(
      acmeKey,
      "POST",
      "/api/v1/api-keys",
      { name: "x" },
      { "idempotency-key": "" },
    );
    assert.equal(invalidKey.status, 400);
    assert.deepEqual(Object.keys(invalidKey.body.fields as object), ["idempotency-key"]);
  });
});

test("an answer carries only what its schema lists", async () => {
  const app = Fastify();
  const view = {
    id: "3f1c2a4e-0000-4000-8000-000000000001",
    type: "oidc",
    name: "Acme",
    status: "enabled",
    issuer: "https://idp.acme.test",
    clientId: "client",
    clientSecret: "********",
    domains: ["acme.test"],
    tokenEndpointAuthMethod: "auto",
    scopes: ["openid"],
    emailClaim: "email",
    clockSkewSeconds: 60,
    jwksUrl: null,
    allowedTenants: [],
    groupsClaim: "groups",
    roleRules: [],
    defaultRole: "member",
    callbackUrl: "https://gatehouse.test/sso/oidc/callback",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
  };
  app.get("/c", { schema: { response: { 200: ConnectionView } } }, async () => ({
    ...view,
    clientSecretSealed: "v1.key.iv.ciphertext.tag",
  }));
  const answer = (await app.inject({ method: "GET", url: "/c" })).json<Record<string, unknown>>();
  await app.close();
  assert.equal("clientSecretSealed" in answer, false);
  assert.deepEqual(answer, view);
});

describe("Nullable", () => {
  const Shape = Type.Object({
    name: Nullable(Type.String()),
    role: Nullable(StringEnum(["admin", "member"])),
    at: Nullable(IsoTime),
    owner: Nullable(Type.Object({ id: Uuid })),
    organization: Nullable(Organization),
  });

  test("a plain type becomes a type list with null, an enum lists null, a named component stays a reference", () => {
    assert.deepEqual(Shape.properties.name, { type: ["string", "null"] });
    assert.deepEqual(Shape.properties.role, { type: ["string", "null"], enum: ["admin", "member", null] });
    assert.deepEqual(Shape.properties.at, { type: ["string", "null"], format: "date-time" });
    assert.deepEqual((Shape.properties.owner as unknown as { type: unknown }).type, ["object", "null"]);
    assert.ok("anyOf" in Shape.properties.organization);
  });

  test("serializes values and nulls, and still leaves out what the schema does not list", async () => {
    const app = Fastify();
    const answers = [
      {
        name: "Ada",
        role: "admin",
        at: "2026-01-02T03:04:05.000Z",
        owner: { id: "0b7c5a52-0f5e-4f0e-9a59-3b4a3c0e2a11", secret: "x" },
        organization: { id: "0b7c5a52-0f5e-4f0e-9a59-3b4a3c0e2a12", slug: "acme", name: "Acme" },
      },
      { name: null, role: null, at: null, owner: null, organization: null },
    ];
    app.get("/:i", { schema: { response: { 200: Shape } } }, async (request) => {
      return answers[Number((request.params as { i: string }).i)];
    });
    try {
      const full = await app.inject({ url: "/0" });
      assert.deepEqual(full.json(), { ...answers[0], owner: { id: answers[0]?.owner?.id } });
      assert.deepEqual((await app.inject({ url: "/1" })).json(), answers[1]);
    } finally {
      await app.close();
    }
  });
});
