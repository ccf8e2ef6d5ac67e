import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, test } from "node:test";
import { ConfigError, isSecureBaseUrl, loadConfig, sqliteDataDir, urlFor } from "../../src/config.js";

describe("loadConfig defaults", () => {
  test("an empty environment gives the documented defaults", () => {
    const config = loadConfig({});
    assert.equal(config.baseUrl.toString(), "http://localhost:3000/");
    assert.equal(config.port, 3000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.databaseUrl, "sqlite:data/gatehouse.db");
    assert.equal(config.secretKey, undefined);
    assert.deepEqual(config.previousSecretKeys, []);
    assert.equal(config.allowPrivateIssuers, false);
    assert.equal(config.linkedin.issuer, "https://www.linkedin.com/oauth");
    assert.equal(config.linkedin.clientId, undefined);
    assert.equal(config.logLevel, "info");
    assert.equal(config.sessionTtlSeconds, 8 * 3600);
    assert.equal(config.passwordAttemptsPerAccount, 5);
    assert.equal(config.passwordAttemptsPerIp, 20);
    assert.equal(config.rateLimitWindowSeconds, 900);
    assert.equal(isSecureBaseUrl(config), false);
  });

  test("empty strings count as unset", () => {
    const config = loadConfig({ GATEHOUSE_BASE_URL: "", PORT: "", GATEHOUSE_SECRET_KEY: "", LOG_LEVEL: "" });
    assert.equal(config.baseUrl.toString(), "http://localhost:3000/");
    assert.equal(config.port, 3000);
    assert.equal(config.secretKey, undefined);
  });

  test("values from the environment are read", () => {
    const key = randomBytes(32).toString("base64");
    const old = randomBytes(32).toString("base64");
    const config = loadConfig({
      GATEHOUSE_BASE_URL: "https://sso.acme.example/gatehouse",
      PORT: "8080",
      HOST: "0.0.0.0",
      GATEHOUSE_DATABASE_URL: "postgres://gatehouse@db.internal/gatehouse",
      GATEHOUSE_SECRET_KEY: key,
      GATEHOUSE_PREVIOUS_SECRET_KEYS: ` ${old} , `,
      GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1",
      GATEHOUSE_LINKEDIN_CLIENT_ID: "li-client",
      GATEHOUSE_SESSION_TTL_SECONDS: "3600",
      GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: "3",
    });
    assert.equal(config.baseUrl.toString(), "https://sso.acme.example/gatehouse/");
    assert.equal(isSecureBaseUrl(config), true);
    assert.equal(
      urlFor(config, "/sso/oidc/callback"),
      "https://sso.acme.example/gatehouse/sso/oidc/callback",
    );
    assert.equal(config.port, 8080);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.secretKey, key);
    assert.deepEqual(config.previousSecretKeys, [old]);
    assert.equal(config.allowPrivateIssuers, true);
    assert.equal(config.linkedin.clientId, "li-client");
    assert.equal(config.sessionTtlSeconds, 3600);
    assert.equal(config.passwordAttemptsPerAccount, 3);
  });

  test("only the exact value 1 turns the private-issuer switch on", () => {
    for (const value of ["true", "yes", "0", " 1"]) {
      assert.equal(loadConfig({ GATEHOUSE_ALLOW_PRIVATE_ISSUERS: value }).allowPrivateIssuers, false, value);
    }
  });
});

describe("loadConfig errors", () => {
  const cases: [label: string, env: Record<string, string>, mentions: RegExp][] = [
    ["a base URL that is not a URL", { GATEHOUSE_BASE_URL: "not a url" }, /GATEHOUSE_BASE_URL/],
    ["a base URL without a scheme", { GATEHOUSE_BASE_URL: "sso.acme.example" }, /GATEHOUSE_BASE_URL/],
    [
      "a base URL with another scheme",
      { GATEHOUSE_BASE_URL: "ftp://sso.acme.example" },
      /GATEHOUSE_BASE_URL/,
    ],
    [
      "a base URL with a query",
      { GATEHOUSE_BASE_URL: "https://sso.acme.example/?a=1" },
      /GATEHOUSE_BASE_URL/,
    ],
    [
      "a base URL with a fragment",
      { GATEHOUSE_BASE_URL: "https://sso.acme.example/#x" },
      /GATEHOUSE_BASE_URL/,
    ],
    ["an unknown database", { GATEHOUSE_DATABASE_URL: "mysql://db/gatehouse" }, /GATEHOUSE_DATABASE_URL/],
    [
      "PostgreSQL without a secret key",
      { GATEHOUSE_DATABASE_URL: "postgres://postgres@127.0.0.1/gatehouse" },
      /GATEHOUSE_SECRET_KEY/,
    ],
    [
      "postgresql:// without a secret key",
      { GATEHOUSE_DATABASE_URL: "postgresql://postgres@127.0.0.1/gatehouse" },
      /GATEHOUSE_SECRET_KEY/,
    ],
    ["a port that is not a number", { PORT: "http" }, /PORT/],
    ["a port out of range", { PORT: "70000" }, /PORT/],
    ["a negative port", { PORT: "-1" }, /PORT/],
    ["a fractional port", { PORT: "80.5" }, /PORT/],
    [
      "a session lifetime below the minimum",
      { GATEHOUSE_SESSION_TTL_SECONDS: "1" },
      /GATEHOUSE_SESSION_TTL_SECONDS/,
    ],
    ["a session lifetime in words", { GATEHOUSE_SESSION_TTL_SECONDS: "8h" }, /GATEHOUSE_SESSION_TTL_SECONDS/],
    [
      "zero attempts per account",
      { GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: "0" },
      /GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT/,
    ],
    [
      "attempts per IP in words",
      { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "ten" },
      /GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP/,
    ],
    [
      "a fractional rate-limit window",
      { GATEHOUSE_RATE_LIMIT_WINDOW_SECONDS: "1.5" },
      /GATEHOUSE_RATE_LIMIT_WINDOW_SECONDS/,
    ],
  ];
  for (const [label, env, mentions] of cases) {
    test(`${label} is refused, naming the variable`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => error instanceof ConfigError && mentions.test(error.message),
      );
    });
  }

  test("PostgreSQL with a secret key is accepted", () => {
    const config = loadConfig({
      GATEHOUSE_DATABASE_URL: "postgres://postgres@127.0.0.1/gatehouse",
      GATEHOUSE_SECRET_KEY: randomBytes(32).toString("base64"),
    });
    assert.match(config.databaseUrl, /^postgres:/);
  });
});

describe("sqliteDataDir", () => {
  test("is the folder of a SQLite file, and undefined otherwise", () => {
    assert.equal(sqliteDataDir("sqlite:data/gatehouse.db"), path.resolve("data"));
    assert.equal(sqliteDataDir("sqlite:/var/lib/gatehouse/db.sqlite"), "/var/lib/gatehouse");
    assert.equal(sqliteDataDir("sqlite::memory:"), undefined);
    assert.equal(sqliteDataDir("postgres://db/gatehouse"), undefined);
  });
});
