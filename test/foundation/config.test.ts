import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  checkServeConfig,
  fastifyTrustProxy,
  HARNESS_VARIABLES,
  isSecretVariable,
  isSecureBaseUrl,
  loadConfig,
  maskDatabaseUrl,
  readConfig,
  sqliteDataDir,
  urlFor,
  VARIABLES,
  type VariableName,
} from "../../src/config.js";

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
      GATEHOUSE_BASE_URL: "https://sso.acme.example",
      PORT: "8080",
      HOST: "0.0.0.0",
      GATEHOUSE_DATABASE_URL: "postgres://gatehouse@db.internal/gatehouse",
      GATEHOUSE_SECRET_KEY: key,
      GATEHOUSE_PREVIOUS_SECRET_KEYS: ` ${old} , `,
      GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1",
      GATEHOUSE_LINKEDIN_CLIENT_ID: "li-client",
      GATEHOUSE_LINKEDIN_CLIENT_SECRET: "li-secret",
      GATEHOUSE_SESSION_TTL_SECONDS: "3600",
      GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: "3",
    });
    assert.equal(config.baseUrl.toString(), "https://sso.acme.example/");
    assert.equal(isSecureBaseUrl(config), true);
    assert.equal(urlFor(config, "/sso/oidc/callback"), "https://sso.acme.example/sso/oidc/callback");
    assert.equal(config.port, 8080);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.secretKey, key);
    assert.deepEqual(config.previousSecretKeys, [old]);
    assert.equal(config.allowPrivateIssuers, true);
    assert.equal(config.linkedin.clientId, "li-client");
    assert.equal(config.sessionTtlSeconds, 3600);
    assert.equal(config.passwordAttemptsPerAccount, 3);
  });

  test("a boolean setting reads 1/0, true/false and yes/no in any case", () => {
    for (const value of ["1", "true", "TRUE", "yes", "Yes"]) {
      assert.equal(loadConfig({ GATEHOUSE_ALLOW_PRIVATE_ISSUERS: value }).allowPrivateIssuers, true, value);
    }
    for (const value of ["0", "false", "no", "NO", ""]) {
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
      "a boolean that is neither yes nor no",
      { GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "on" },
      /GATEHOUSE_ALLOW_PRIVATE_ISSUERS.*"on"/,
    ],
    ["a boolean with spaces", { GATEHOUSE_ALLOW_PRIVATE_ISSUERS: " 1" }, /GATEHOUSE_ALLOW_PRIVATE_ISSUERS/],
    [
      "a misspelt variable",
      { GATEHOUSE_SESION_TTL_SECONDS: "3600" },
      /GATEHOUSE_SESION_TTL_SECONDS \(did you mean GATEHOUSE_SESSION_TTL_SECONDS\?\)/,
    ],
    [
      "an unknown variable unlike any",
      { GATEHOUSE_FROBNICATE: "1" },
      /unknown setting: GATEHOUSE_FROBNICATE\./,
    ],
    [
      "a _FILE variant of a setting that is not secret",
      { GATEHOUSE_BASE_URL_FILE: "/x" },
      /GATEHOUSE_BASE_URL_FILE \(only secrets are read from files; set GATEHOUSE_BASE_URL itself\)/,
    ],
    [
      "a secret set both directly and from a file",
      { GATEHOUSE_SECRET_KEY: "x", GATEHOUSE_SECRET_KEY_FILE: "/x" },
      /GATEHOUSE_SECRET_KEY and GATEHOUSE_SECRET_KEY_FILE/,
    ],
    [
      "a secret file that cannot be read",
      { GATEHOUSE_SECRET_KEY_FILE: "/nonexistent/key" },
      /GATEHOUSE_SECRET_KEY_FILE.*ENOENT/,
    ],
    [
      "a negative audit retention",
      { GATEHOUSE_AUDIT_RETENTION_DAYS: "-1" },
      /GATEHOUSE_AUDIT_RETENTION_DAYS/,
    ],
    // Issue 10, item 12: each of these was accepted, or refused without naming the variable.
    [
      "an empty SQLite path (a temporary database)",
      { GATEHOUSE_DATABASE_URL: "sqlite:" },
      /GATEHOUSE_DATABASE_URL/,
    ],
    ["a SQLite path that is a folder", { GATEHOUSE_DATABASE_URL: "sqlite:data/" }, /GATEHOUSE_DATABASE_URL/],
    [
      "a PostgreSQL URL that does not parse",
      { GATEHOUSE_DATABASE_URL: "postgres://a:b@[bad/x", GATEHOUSE_SECRET_KEY: "x" },
      /GATEHOUSE_DATABASE_URL/,
    ],
    ["a hexadecimal port", { PORT: "0x9c41" }, /PORT.*0x9c41/],
    ["a port in exponent notation", { PORT: "3e3" }, /PORT/],
    ["a port with spaces", { PORT: " 80" }, /PORT/],
    [
      "a LinkedIn issuer that is not a URL",
      { GATEHOUSE_LINKEDIN_ISSUER: "linkedin" },
      /GATEHOUSE_LINKEDIN_ISSUER/,
    ],
    [
      "a LinkedIn issuer over http without the private-issuer switch",
      { GATEHOUSE_LINKEDIN_ISSUER: "http://www.linkedin.com/oauth" },
      /GATEHOUSE_LINKEDIN_ISSUER/,
    ],
    [
      "a LinkedIn client id without its secret",
      { GATEHOUSE_LINKEDIN_CLIENT_ID: "li-client" },
      /GATEHOUSE_LINKEDIN_CLIENT_SECRET/,
    ],
    [
      "a LinkedIn client secret without its id",
      { GATEHOUSE_LINKEDIN_CLIENT_SECRET: "li-secret" },
      /GATEHOUSE_LINKEDIN_CLIENT_ID/,
    ],
    ["an unknown log level (pino's error named no variable)", { LOG_LEVEL: "loud" }, /LOG_LEVEL.*"loud"/],
    [
      "a trusted proxy range with an impossible prefix (exited 1 unnamed)",
      { GATEHOUSE_TRUST_PROXY: "10.0.0.0/99" },
      /GATEHOUSE_TRUST_PROXY/,
    ],
    ["a trusted proxy that is no address", { GATEHOUSE_TRUST_PROXY: "1.2.3" }, /GATEHOUSE_TRUST_PROXY/],
    [
      "a base URL with credentials",
      { GATEHOUSE_BASE_URL: "https://u:p@sso.acme.example" },
      /GATEHOUSE_BASE_URL/,
    ],
    ["a short metrics token", { GATEHOUSE_METRICS_TOKEN: "secret" }, /GATEHOUSE_METRICS_TOKEN/],
    // Routes, links and the OpenID Provider's endpoints live at the root: under a path nothing worked.
    [
      "a base URL with a path",
      { GATEHOUSE_BASE_URL: "http://localhost:4105/sub" },
      /GATEHOUSE_BASE_URL.*path.*root of its origin/,
    ],
    ["a base URL with a path and a slash", { GATEHOUSE_BASE_URL: "https://acme.example/sso/" }, /path/],
    // The keys were checked only by createContext, so config check passed them and serve refused.
    [
      "a secret key of 3 bytes",
      { GATEHOUSE_SECRET_KEY: "short" },
      /GATEHOUSE_SECRET_KEY must be 32 bytes.*got 3 bytes/,
    ],
    [
      "a secret key of 31 bytes",
      { GATEHOUSE_SECRET_KEY: Buffer.alloc(31, 1).toString("base64") },
      /GATEHOUSE_SECRET_KEY must be 32 bytes.*got 31 bytes/,
    ],
    [
      "a previous secret key that is not a key",
      { GATEHOUSE_PREVIOUS_SECRET_KEYS: `${Buffer.alloc(32, 1).toString("base64")},garbage` },
      /GATEHOUSE_PREVIOUS_SECRET_KEYS \(key 2 of 2\) must be 32 bytes/,
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

  test("serve refuses an in-memory SQLite database, naming the variable", () => {
    const config = loadConfig({ GATEHOUSE_DATABASE_URL: "sqlite::memory:" });
    assert.throws(
      () => checkServeConfig(config),
      (error: unknown) => error instanceof ConfigError && /GATEHOUSE_DATABASE_URL/.test(error.message),
    );
    assert.doesNotThrow(() => checkServeConfig(loadConfig({})));
  });

  test("GATEHOUSE_TRUST_PROXY=all trusts the connecting peer only: the right-most forwarded address is the client", () => {
    const trust = fastifyTrustProxy(loadConfig({ GATEHOUSE_TRUST_PROXY: "all" }));
    assert.equal(typeof trust, "function");
    if (typeof trust !== "function") return;
    assert.equal(trust("10.0.0.1", 0), true, "the socket's peer is the proxy");
    assert.equal(trust("203.0.113.9", 1), false, "the address the proxy appended is the client");
    const two = fastifyTrustProxy(loadConfig({ GATEHOUSE_TRUST_PROXY: "2" }));
    assert.ok(typeof two === "function" && two("x", 1) && !two("x", 2));
    assert.deepEqual(fastifyTrustProxy(loadConfig({ GATEHOUSE_TRUST_PROXY: "10.0.0.0/8, ::1" })), [
      "10.0.0.0/8",
      "::1",
    ]);
    assert.equal(fastifyTrustProxy(loadConfig({})), false);
  });

  test("PostgreSQL with a secret key is accepted", () => {
    const config = loadConfig({
      GATEHOUSE_DATABASE_URL: "postgres://postgres@127.0.0.1/gatehouse",
      GATEHOUSE_SECRET_KEY: randomBytes(32).toString("base64"),
    });
    assert.match(config.databaseUrl, /^postgres:/);
  });
});

describe("maskDatabaseUrl", () => {
  test("masks the password of the user info and of libpq's password and sslpassword parameters", () => {
    assert.equal(
      maskDatabaseUrl("postgres://u:pw@db.internal/gh?sslmode=require&password=hunter2"),
      "postgres://u:********@db.internal/gh?sslmode=require&password=********",
    );
    assert.equal(
      maskDatabaseUrl("postgres://u@db.internal/gh?sslkey=/etc/k.pem&sslpassword=p4ss&PASSWORD=x"),
      "postgres://u@db.internal/gh?sslkey=/etc/k.pem&sslpassword=********&PASSWORD=********",
    );
    assert.equal(
      maskDatabaseUrl("postgres://u@db/gh?options=-c%20search_path%3Dgh"),
      "postgres://u@db/gh?options=-c%20search_path%3Dgh",
    );
    assert.equal(maskDatabaseUrl("sqlite:data/gatehouse.db"), "sqlite:data/gatehouse.db");
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

describe("configuration declarations", () => {
  test("every secret can come from a file, without its trailing newline", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-config-"));
    try {
      const key = randomBytes(32).toString("base64");
      const env: Record<string, string> = { GATEHOUSE_DATABASE_URL: "sqlite::memory:" };
      const expected: Record<string, string> = {
        GATEHOUSE_DATABASE_URL: "postgres://gatehouse:pw@db/gatehouse",
        GATEHOUSE_SECRET_KEY: key,
        GATEHOUSE_PREVIOUS_SECRET_KEYS: key,
        GATEHOUSE_LINKEDIN_CLIENT_SECRET: "linkedin-secret",
        GATEHOUSE_METRICS_TOKEN: "m".repeat(32),
      };
      const secrets = (Object.keys(VARIABLES) as VariableName[]).filter(isSecretVariable);
      assert.deepEqual(secrets.sort(), Object.keys(expected).sort(), "a new secret needs a case here");
      for (const name of secrets) {
        const file = path.join(dir, name);
        writeFileSync(file, `${expected[name]}\n`);
        env[`${name}_FILE`] = file;
      }
      delete env.GATEHOUSE_DATABASE_URL;
      env.GATEHOUSE_LINKEDIN_CLIENT_ID = "linkedin-client";
      const { config, sources } = readConfig(env);
      assert.equal(config.databaseUrl, expected.GATEHOUSE_DATABASE_URL);
      assert.equal(config.secretKey, key);
      assert.deepEqual(config.previousSecretKeys, [key]);
      assert.equal(config.linkedin.clientSecret, "linkedin-secret");
      assert.equal(config.metricsToken, "m".repeat(32));
      assert.equal(sources.get("GATEHOUSE_SECRET_KEY"), "file");
      assert.equal(sources.get("GATEHOUSE_BASE_URL"), "default");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every GATEHOUSE_ name in the source is declared, and documented in docs/configuration.md", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const docs = readFileSync(path.join(root, "docs/configuration.md"), "utf8");
    const declared = new Set<string>([...Object.keys(VARIABLES), ...HARNESS_VARIABLES]);
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith(".ts")) {
          for (const match of readFileSync(full, "utf8").matchAll(/\bGATEHOUSE_[A-Z0-9_]*[A-Z0-9]\b/g)) {
            used.add(match[0].replace(/_FILE$/, ""));
          }
        }
      }
    };
    walk(path.join(root, "src"));
    for (const name of used)
      assert.ok(declared.has(name), `${name} is read in src/ but not declared in VARIABLES`);
    for (const name of declared)
      assert.ok(docs.includes(`\`${name}`), `${name} is not in docs/configuration.md`);
  });
});
