/**
 * Issue 10, item 13: framework errors bypassed the error format; the log redaction hid a
 * database error's SQLSTATE; names accepted bidi overrides, zero-width characters and lone
 * surrogates; the password rule refused any password containing a one-letter local part while
 * `password1234` passed; concurrent `org create` printed raw constraint errors.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import SqliteDatabase from "better-sqlite3";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import { isCommonPassword } from "../../src/crypto/common-passwords.js";
import { passwordWeakness } from "../../src/crypto/password.js";
import { nameProblem } from "../../src/domain/names.js";
import { GatehouseError } from "../../src/errors.js";
import { createLogger } from "../../src/server/log.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

let gh: TestGatehouse;
let key: string;
before(async () => {
  gh = await startGatehouse();
  await seedAcme(gh);
  ({ key } = await createApiKey(gh.ctx, "acme", "ci"));
});
after(() => gh.close());

describe("framework errors answer in Gatehouse's format", () => {
  test("a path parameter over 200 characters: 414 with the error page, or the API's JSON", async () => {
    const page = await gh.app.inject({
      url: `/admin/enterprise-authentication/oidc/${"x".repeat(300)}/delete`,
    });
    assert.equal(page.statusCode, 414);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(page.body, /data-error-code="REQUEST_INVALID"/);
    assert.ok(page.headers["content-security-policy"], "the usual security headers");
    const api = await gh.app.inject({
      url: `/api/v1/connections/${"x".repeat(300)}`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(api.statusCode, 414);
    assert.equal(api.json().code, "REQUEST_INVALID");
    for (const answer of [page, api]) assert.doesNotMatch(answer.body, /FST_ERR|\n\s+at /);
  });

  test("bad JSON, a wrong content type and an oversized body: 4xx with a code, never a stack", async () => {
    const post = (contentType: string, payload: string) =>
      gh.app.inject({
        method: "POST",
        url: "/api/v1/connections",
        headers: { authorization: `Bearer ${key}`, "content-type": contentType },
        payload,
      });
    const answers = [
      [await post("application/json", '{"name":'), 400],
      [await post("application/xml", "<connection/>"), 415],
      [await post("application/json", JSON.stringify({ name: "x".repeat(70 * 1024) })), 413],
    ] as const;
    for (const [answer, status] of answers) {
      assert.equal(answer.statusCode, status, answer.body);
      assert.equal(answer.json().code, "REQUEST_INVALID");
      assert.doesNotMatch(answer.body, /FST_ERR|\n\s+at /);
    }
  });
});

describe("the log keeps a database error's code", () => {
  function logOf(write: (log: ReturnType<typeof createLogger>) => void): Record<string, unknown> {
    const lines: string[] = [];
    const log = createLogger(
      "info",
      new Writable({
        write(chunk, _encoding, callback) {
          lines.push(String(chunk));
          callback();
        },
      }),
    );
    write(log);
    log.flush();
    return JSON.parse(lines.join("").trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  }

  test("SQLite's result code and PostgreSQL's SQLSTATE are logged; an authorization code is still redacted", async () => {
    const sqlite = new SqliteDatabase(":memory:");
    let sqliteError: unknown;
    try {
      sqlite.prepare("insert into nowhere values (1)").run();
    } catch (error) {
      sqliteError = error;
    }
    sqlite.close();
    const line = logOf((log) =>
      log.error({ err: sqliteError, query: { code: "an-authorization-code" } }, "failed"),
    );
    assert.equal((line.err as { sqlState?: string }).sqlState, "SQLITE_ERROR");
    assert.equal((line.query as { code?: string }).code, "[redacted]");

    // Wrapped, as Gatehouse logs it: the cause's code is found.
    const wrapped = new GatehouseError("INTERNAL", "Internal error", { cause: sqliteError });
    assert.equal(
      (logOf((log) => log.error({ err: wrapped })).err as { sqlState?: string }).sqlState,
      "SQLITE_ERROR",
    );

    const url = process.env.GATEHOUSE_TEST_POSTGRES_URL;
    if (!url) return;
    const pg = (await import("pg")).default;
    const client = new pg.Client(url);
    await client.connect();
    const pgError = await client.query("select 1/0").then(
      () => undefined,
      (error: unknown) => error,
    );
    await client.end();
    assert.equal(
      (logOf((log) => log.error({ err: pgError })).err as { sqlState?: string }).sqlState,
      "22012",
    );
  });
});

describe("names", () => {
  const cases: [string, ReturnType<typeof nameProblem>][] = [
    ["Acme Okta", undefined],
    ["Société Générale — Entra", undefined],
    ["株式会社アクメ", undefined],
    ["👩‍💻 Engineering", undefined], // a zero-width joiner inside an emoji sequence is refused too
    ["Acme\u202eatkO", "bidi"],
    ["Acme\u2066x\u2069", "bidi"],
    ["Acme\u200f", "bidi"],
    ["Ac\u200bme", "zero_width"],
    ["\ufeffAcme", "zero_width"],
    ["Acme\ud800", "surrogate"],
    ["Acme\udc00x", "surrogate"],
    ["Acme\u0000", "control"],
    ["Acme\u0085", "control"],
  ];
  for (const [name, expected] of cases) {
    const want = name.startsWith("👩") ? "zero_width" : expected;
    test(`${JSON.stringify(name)} → ${want ?? "accepted"}`, () => assert.equal(nameProblem(name), want));
  }

  test("an organization, a connection and an API key named with a bidi override or a zero-width space are refused", async () => {
    await assert.rejects(
      createOrganizationWithAdmin(gh.ctx, {
        slug: "bidi",
        name: "Acme\u202eatkO",
        adminEmail: "owner@bidi.test",
        adminPassword: "a long enough pass phrase",
      }),
      (error: GatehouseError) => error.code === "VALIDATION_FAILED" && Boolean(error.fields?.name),
    );
    const connection = await fetch(`${gh.url}/api/v1/connections`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        type: "oidc",
        name: "Acme\u200bOkta",
        issuer: "https://idp.acme.test",
        clientId: "client",
        clientSecret: "secret",
        domains: ["acme.test"],
      }),
    });
    assert.equal(connection.status, 400);
    const body = (await connection.json()) as { code: string; fields?: Record<string, string> };
    assert.equal(body.code, "VALIDATION_FAILED");
    assert.ok(body.fields?.name);
    await assert.rejects(
      createApiKey(gh.ctx, "acme", "ci\u202e"),
      (error: GatehouseError) => error.code === "VALIDATION_FAILED",
    );
  });
});

describe("passwords", () => {
  const cases: [password: string, email: string | undefined, weak: boolean][] = [
    ["password1234", undefined, true],
    ["Password1234!", undefined, true],
    ["P@ssw0rd2024", undefined, true],
    ["Welcome123456", undefined, true],
    ["qwertyuiop12", undefined, true],
    ["123456789012", undefined, true],
    ["passwordpassword", undefined, true],
    ["dragon2024!!!", undefined, true],
    // A one-letter local part no longer forbids every password holding that letter.
    ["correct horse battery", "a@x.test", false],
    ["banana split sundae", "b@x.test", false],
    ["alice in wonderland 1865", "alice@acme.test", true],
    ["another long passphrase", undefined, false],
    ["Tr0ub4dor&3xyz", undefined, false],
  ];
  for (const [password, email, weak] of cases) {
    test(`${JSON.stringify(password)} for ${email ?? "no email"}: ${weak ? "refused" : "accepted"}`, () => {
      const reason = passwordWeakness(password, email);
      if (weak) assert.equal(typeof reason, "string");
      else assert.equal(reason, undefined);
    });
  }

  test("the common-password check undoes substitutions and padding", () => {
    assert.equal(isCommonPassword("!!Pa55w0rd!!2025"), true);
    assert.equal(isCommonPassword("zyxwvutsrq"), true);
    assert.equal(isCommonPassword("purple monkey dishwasher"), false);
  });
});

test("concurrent org create with one slug: one organization, the others a clear CONFLICT naming the slug", async () => {
  const attempts = await Promise.allSettled(
    Array.from({ length: 5 }, (_, i) =>
      createOrganizationWithAdmin(gh.ctx, {
        slug: "racing",
        name: "Racing",
        adminEmail: `owner${i}@racing.test`,
        adminPassword: "a long enough pass phrase",
      }),
    ),
  );
  const created = attempts.filter((a) => a.status === "fulfilled");
  const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
  assert.equal(created.length, 1);
  for (const { reason } of refused) {
    assert.ok(reason instanceof GatehouseError, String(reason));
    assert.equal(reason.code, "CONFLICT");
    assert.equal(reason.fields?.slug, "is already taken");
  }
  const rows = await gh.ctx.store.db
    .selectFrom("organizations")
    .select("id")
    .where("slug", "=", "racing")
    .execute();
  assert.equal(rows.length, 1);
});
