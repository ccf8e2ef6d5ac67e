import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createConnection } from "../src/connections/create.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";
import { findOrganizationBySlug } from "../src/store/organizations.js";
import { testDatabases } from "./support/databases.js";
import { freePort, startGatehouse, type TestGatehouse } from "./support/gatehouse.js";
import { spawnGatehouse } from "./support/processes.js";
import { acmeOktaInput } from "./support/sso.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const PASSWORD = "correct horse battery";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dir: string;
let databaseUrl: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as an operator would. */
function gatehouse(...args: string[]): Promise<Run> {
  return spawnCli(["src/main.ts", ...args]);
}

function spawnCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  // The parent's own Gatehouse settings must not leak into the child.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(GATEHOUSE_|LOG_LEVEL$|PORT$|HOST$)/.test(name)),
  );
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: root,
    env: { ...inherited, GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A file holding a password, as `org create --admin-password-file` reads it. */
function passwordFile(password: string): string {
  const file = path.join(dir, `password-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), "gatehouse-cli-"));
  databaseUrl = `sqlite:${path.join(dir, "g.db")}`;
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("operator commands on one database", () => {
  let gh: TestGatehouse | undefined;
  let idp: DevIdp | undefined;
  after(async () => {
    await idp?.close();
    await gh?.close();
  });

  test("migrate brings a new database up to date", async () => {
    const run = await gatehouse("migrate");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /0001-initial/);
    const again = await gatehouse("migrate");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /up to date/);
  });

  test("org create prints the organization id and nothing else on stdout", async () => {
    const run = await gatehouse(
      "org",
      "create",
      "--slug",
      "acme",
      "--name",
      "Acme",
      "--admin-email",
      "admin@acme.test",
      "--admin-password-file",
      passwordFile(PASSWORD),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^[0-9a-f-]{36}\n$/);
    assert.match(run.stdout.trim(), UUID);
  });

  test("org create refuses a taken slug, a malformed email and a weak password, naming them", async () => {
    const create = (slug: string, email: string, password: string) =>
      gatehouse(
        "org",
        "create",
        "--slug",
        slug,
        "--name",
        "X",
        "--admin-email",
        email,
        "--admin-password-file",
        passwordFile(password),
      );
    const [taken, email, weak] = await Promise.all([
      create("acme", "other@acme.test", PASSWORD),
      create("beta", "not-an-email", PASSWORD),
      create("gamma", "owner@gamma.test", "short"),
    ]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /acme/);
    assert.equal(email.code, 1);
    assert.match(email.stderr, /--admin-email/);
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /password/);
    for (const run of [taken, email, weak]) assert.equal(run.stdout, "");
  });

  test("apikey create prints a key on its last line that a running server accepts", async () => {
    const run = await gatehouse("apikey", "create", "--org", "acme", "--name", "ci");
    assert.equal(run.code, 0, run.stderr);
    const key = lastLine(run.stdout);
    assert.match(key, /^ghk_[A-Za-z0-9_-]+$/);

    gh = await startGatehouse({ databaseUrl });
    const answer = await fetch(`${gh.url}/api/v1/users`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(answer.status, 200);
    const body = (await answer.json()) as { data: { email: string }[] };
    assert.deepEqual(
      body.data.map((u) => u.email),
      ["admin@acme.test"],
    );

    const unknown = await gatehouse("apikey", "create", "--org", "nope");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nope/);
  });

  test("apikey: operator keys, a list with last use as a table or JSON, and revoke", async () => {
    assert.ok(gh, "the server of the previous test runs");
    const created = await gatehouse("apikey", "create", "--operator", "--name", "platform");
    assert.equal(created.code, 0, created.stderr);
    const key = lastLine(created.stdout);
    assert.match(key, /^ghop_[A-Za-z0-9_-]+$/);
    const me = await fetch(`${gh.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(((await me.json()) as { credential: string }).credential, "operator_key");

    const json = await gatehouse("apikey", "list", "--json");
    assert.equal(json.code, 0, json.stderr);
    const keys = JSON.parse(json.stdout) as {
      id: string;
      scope: string;
      organization: string | null;
      name: string;
      lastUsedAt: string | null;
    }[];
    assert.deepEqual(keys.map((k) => [k.scope, k.organization, k.name, k.lastUsedAt !== null]).sort(), [
      ["operator", null, "platform", true],
      ["organization", "acme", "ci", true],
    ]);
    const operator = keys.find((k) => k.scope === "operator");
    assert.ok(operator);

    const text = await gatehouse("apikey", "list", "--org", "acme");
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(text.stdout.split("\n")[0]?.split(/\s{2,}/), [
      "ID",
      "SCOPE",
      "ORGANIZATION",
      "NAME",
      "PREFIX",
      "CREATED",
      "LAST USED",
      "REVOKED",
    ]);
    assert.doesNotMatch(text.stdout, /platform/);

    const revoked = await gatehouse("apikey", "revoke", "--id", operator.id);
    assert.equal(revoked.code, 0, revoked.stderr);
    const refused = await fetch(`${gh.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(refused.status, 401);
    const twice = await gatehouse("apikey", "revoke", "--id", operator.id);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /No such active API key/);
  });

  test("connection list and disable: the way back in after a lock-out", async () => {
    assert.ok(gh, "the server of the previous test runs");
    const empty = await gatehouse("connection", "list", "--org", "acme");
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, "No connections.\n");

    idp = await startDevIdp({ port: 0, ...demoIdpSetup(`${gh.url}/`) });
    const acme = await findOrganizationBySlug(gh.ctx.store.db, "acme");
    assert.ok(acme);
    const { connection } = await createConnection(gh.ctx, {
      organizationId: acme.id,
      input: acmeOktaInput(idp),
      actorUserId: null,
    });

    const listed = await gatehouse("connection", "list", "--org", "acme");
    assert.equal(listed.code, 0, listed.stderr);
    const [heading, row, ...rest] = listed.stdout.trimEnd().split("\n");
    assert.deepEqual(heading?.split(/\s{2,}/), ["NAME", "PROTOCOL", "STATUS", "ISSUER", "DOMAINS", "ID"]);
    assert.deepEqual(row?.split(/\s{2,}/), [
      "Acme Okta",
      "oidc",
      "enabled",
      idp.issuer,
      "acme.test",
      connection.id,
    ]);
    assert.deepEqual(rest, []);
    assert.ok(!listed.stdout.includes("gatehouse-okta-secret"));

    const disabled = await gatehouse("connection", "disable", "--org", "acme", "--name", "acme okta");
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /Disabled connection "Acme Okta"/);
    // The admin at acme.test has a password; nobody was created by single sign-on yet.
    assert.match(
      disabled.stdout,
      /Of the people at acme\.test, 1 can sign in with a password or LinkedIn; 0 have neither/,
    );
    const relisted = await gatehouse("connection", "list", "--org", "acme");
    assert.match(relisted.stdout, /Acme Okta\s+oidc\s+disabled/);
    const again = await gatehouse("connection", "disable", "--org", "acme", "--name", "Acme Okta");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already disabled/);

    // The running server sees the change at once: nothing is cached across the database.
    const key = lastLine((await gatehouse("apikey", "create", "--org", "acme")).stdout);
    const view = await fetch(`${gh.url}/api/v1/connections/${connection.id}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(((await view.json()) as { status: string }).status, "disabled");
    const events = await fetch(`${gh.url}/api/v1/events?type=connection.disabled`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(((await events.json()) as { data: unknown[] }).data.length, 1);

    const enabled = await gatehouse("connection", "enable", "--org", "acme", "--name", "Acme Okta");
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, /Enabled connection "Acme Okta"/);
    assert.match(
      (await gatehouse("connection", "list", "--org", "acme")).stdout,
      /Acme Okta\s+oidc\s+enabled/,
    );
    const enabledAgain = await gatehouse("connection", "enable", "--org", "acme", "--name", "Acme Okta");
    assert.match(enabledAgain.stdout, /already enabled/);
  });

  test("connection commands name an unknown organization or connection and exit 1", async () => {
    const [noOrg, noName, listNoOrg] = await Promise.all([
      gatehouse("connection", "disable", "--org", "nope", "--name", "Acme Okta"),
      gatehouse("connection", "disable", "--org", "acme", "--name", "Nobody's IdP"),
      gatehouse("connection", "list", "--org", "nope"),
    ]);
    assert.equal(noOrg.code, 1);
    assert.match(noOrg.stderr, /"nope"/);
    assert.equal(noName.code, 1);
    assert.match(noName.stderr, /Nobody's IdP/);
    assert.equal(listNoOrg.code, 1);
    assert.match(listNoOrg.stderr, /"nope"/);
  });
});

/** Many cases of the CLI in one child process (test/support/cli-cases.ts), for usage and help. */
async function eachInProcess(commands: string[][], ...extra: string[]): Promise<Run[]> {
  const cases = commands.map((command) => [...command, ...extra]);
  const run = await spawnCli(["test/support/cli-cases.ts", JSON.stringify(cases)]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Run[];
}

async function inProcess(...args: string[]): Promise<Run> {
  const [run] = await eachInProcess([args]);
  assert.ok(run);
  return run;
}

describe("usage", () => {
  test("--help of every command prints its usage and exits 0", async () => {
    const commands = [
      [],
      ["restore"],
      ["serve"],
      ["demo"],
      ["dev-idp"],
      ["migrate"],
      ["org"],
      ["org", "create"],
      ["apikey"],
      ["apikey", "create"],
      ["apikey", "list"],
      ["apikey", "revoke"],
      ["connection"],
      ["connection", "list"],
      ["connection", "disable"],
      ["domain"],
      ["domain", "list"],
      ["domain", "add"],
      ["domain", "verify"],
      ["domain", "remove"],
      ["config"],
      ["config", "check"],
      ["backup"],
      ["keys"],
      ["keys", "rotate"],
      ["keys", "rotate-secret-key"],
      ["app"],
      ["app", "create"],
      ["app", "list"],
      ["app", "delete"],
    ];
    const runs = await eachInProcess(commands, "--help");
    runs.forEach((run, i) => {
      const command = commands[i]?.join(" ");
      assert.equal(run.code, 0, `${command} --help: ${run.stderr}`);
      assert.match(run.stdout, /^Usage: gatehouse/, `${command} --help`);
    });
  });

  test("config check prints the effective settings with secrets masked, or refuses with exit 2", async () => {
    const keyFile = path.join(dir, "secret-key");
    const key = "c2VjcmV0LWtleS1mb3ItY29uZmlnLWNoZWNrLXRlc3Q=";
    writeFileSync(keyFile, `${key}\n`);
    const valid = await spawnCli(["src/main.ts", "config", "check", "--json"], {
      GATEHOUSE_SECRET_KEY_FILE: keyFile,
      GATEHOUSE_DATABASE_URL: "postgres://gatehouse:db-password@db.internal/gatehouse",
      GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "yes",
    });
    assert.equal(valid.code, 0, valid.stderr);
    assert.ok(!valid.stdout.includes(key) && !valid.stdout.includes("db-password"), "secrets are masked");
    const { settings } = JSON.parse(valid.stdout) as {
      settings: { name: string; value: string; source: string }[];
    };
    const byName = new Map(settings.map((s) => [s.name, s]));
    assert.deepEqual(byName.get("GATEHOUSE_SECRET_KEY"), {
      ...byName.get("GATEHOUSE_SECRET_KEY"),
      value: "********",
      source: "file",
    });
    assert.equal(
      byName.get("GATEHOUSE_DATABASE_URL")?.value,
      "postgres://gatehouse:********@db.internal/gatehouse",
    );
    assert.equal(byName.get("GATEHOUSE_ALLOW_PRIVATE_ISSUERS")?.value, "true");
    assert.equal(byName.get("GATEHOUSE_AUDIT_RETENTION_DAYS")?.source, "default");

    const misspelt = await spawnCli(["src/main.ts", "config", "check"], {
      GATEHOUSE_SESION_TTL_SECONDS: "3600",
    });
    assert.equal(misspelt.code, 2);
    assert.match(misspelt.stderr, /did you mean GATEHOUSE_SESSION_TTL_SECONDS\?/);
    const malformed = await spawnCli(["src/main.ts", "serve"], { GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "on" });
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /GATEHOUSE_ALLOW_PRIVATE_ISSUERS/);
  });

  test("the top-level usage lists every command group's commands", async () => {
    const run = await inProcess("--help");
    for (const command of [
      "org create",
      "org sign-out",
      "connection list",
      "connection disable",
      "connection enable",
      "backup --to",
      "restore --from",
      "app create|list|delete",
    ]) {
      assert.match(run.stdout, new RegExp(`^  ${command.replace("|", "\\|")} `, "m"), command);
    }
  });

  test("--version prints the package version and exits 0", async () => {
    const run = await inProcess("--version");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test("unknown commands, missing and unknown options exit 2 with the usage on stderr", async () => {
    const commands = [
      [],
      ["frobnicate"],
      ["org", "delete"],
      ["connection"],
      ["connection", "enable", "--org", "acme"],
      ["connection", "list"],
      ["connection", "list", "--org", "acme", "--colour", "blue"],
      ["connection", "disable", "--org", "acme"],
      ["connection", "list", "acme"],
      ["org"],
      ["apikey"],
      ["apikey", "create"],
      ["apikey", "create", "--org", "acme", "--operator"],
      ["apikey", "revoke"],
    ];
    const runs = await eachInProcess(commands);
    runs.forEach((run, i) => {
      const command = commands[i]?.join(" ");
      assert.equal(run.code, 2, `${command}: ${run.stderr}`);
      assert.match(run.stderr, /^gatehouse: /, command);
      assert.equal(run.stdout, "", command);
    });
  });
});

describe("a one-shot command and a missing SQLite database", () => {
  // `apikey list` answered "No API keys." (exit 0) from a database it had just created at the
  // mistyped path, and left it there with a new secret key.
  test("is refused with the path and GATEHOUSE_DATABASE_URL, and nothing is created", async () => {
    const missing = path.join(dir, "typo", "gatehouse.db");
    const runs = await Promise.all([
      spawnCli(["src/main.ts", "apikey", "list"], { GATEHOUSE_DATABASE_URL: `sqlite:${missing}` }),
      spawnCli(["src/main.ts", "domain", "add", "--org", "acme", "--domain", "acme.test"], {
        GATEHOUSE_DATABASE_URL: `sqlite:${missing}`,
      }),
      spawnCli(["src/main.ts", "keys", "rotate"], { GATEHOUSE_DATABASE_URL: `sqlite:${missing}` }),
    ]);
    for (const run of runs) {
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, "");
      assert.match(
        run.stderr,
        /^gatehouse: GATEHOUSE_DATABASE_URL: there is no database at .*typo\/gatehouse\.db; check the path/,
      );
    }
    assert.equal(existsSync(path.join(dir, "typo")), false, "no folder, database or key was created");
  });

  // The documented first run creates the first organization before the server ever started.
  test("org create creates it (and its key), saying so on stderr", async () => {
    const fresh = path.join(dir, "first-run", "gatehouse.db");
    const env = { GATEHOUSE_DATABASE_URL: `sqlite:${fresh}` };
    const create = await spawnCli(
      [
        "src/main.ts",
        "org",
        "create",
        "--slug",
        "first",
        "--name",
        "First",
        "--admin-email",
        "owner@first.test",
        "--admin-password-file",
        passwordFile(PASSWORD),
      ],
      env,
    );
    assert.equal(create.code, 0, create.stderr);
    assert.match(create.stdout.trim(), UUID);
    assert.match(
      create.stderr,
      /created a new database at .*first-run\/gatehouse\.db \(GATEHOUSE_DATABASE_URL\)/,
    );
    assert.ok(existsSync(path.join(dir, "first-run", "secret.key")));
    const list = await spawnCli(["src/main.ts", "apikey", "list", "--org", "first"], env);
    assert.equal(list.code, 0, list.stderr);
  });
});

describe("the database URL in what the CLI prints", () => {
  // `password=hunter2` in the query was printed as is by config check, in the table and in --json.
  test("config check masks a password given as a query parameter", async () => {
    const env = {
      GATEHOUSE_SECRET_KEY: Buffer.alloc(32, 3).toString("base64"),
      GATEHOUSE_DATABASE_URL:
        "postgres://u:pw@db.internal/gh?sslmode=require&password=hunter2&sslpassword=pem-pass",
    };
    const [tableRun, jsonRun] = await Promise.all([
      spawnCli(["src/main.ts", "config", "check"], env),
      spawnCli(["src/main.ts", "config", "check", "--json"], env),
    ]);
    for (const run of [tableRun, jsonRun]) {
      assert.equal(run.code, 0, run.stderr);
      assert.ok(!/hunter2|pem-pass|:pw@/.test(run.stdout), run.stdout);
      assert.match(
        run.stdout,
        /postgres:\/\/u:\*{8}@db\.internal\/gh\?sslmode=require&password=\*{8}&sslpassword=\*{8}/,
      );
    }
  });

  // "gatehouse: connect ECONNREFUSED 127.0.0.1:5499" named neither the database nor the setting.
  test("an unreachable database is named, masked, with GATEHOUSE_DATABASE_URL and the reason", async () => {
    const key = Buffer.alloc(32, 4).toString("base64");
    const [refused, unknownHost] = await Promise.all([
      spawnCli(["src/main.ts", "apikey", "list"], {
        GATEHOUSE_SECRET_KEY: key,
        GATEHOUSE_DATABASE_URL: "postgres://u:pw@127.0.0.1:1/gh?password=hunter2",
      }),
      spawnCli(["src/main.ts", "migrate"], {
        GATEHOUSE_SECRET_KEY: key,
        GATEHOUSE_DATABASE_URL: "postgres://u:pw@nohost.invalid/gh",
      }),
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /gatehouse: the database at postgres:\/\/u:\*{8}@127\.0\.0\.1:1\/gh\?password=\*{8} \(GATEHOUSE_DATABASE_URL\) could not be reached: connect ECONNREFUSED 127\.0\.0\.1:1\n$/,
    );
    assert.equal(unknownHost.code, 1, unknownHost.stderr);
    assert.match(
      unknownHost.stderr,
      /gatehouse: the database at postgres:\/\/u:\*{8}@nohost\.invalid\/gh \(GATEHOUSE_DATABASE_URL\) could not be reached: getaddrinfo (ENOTFOUND|EAI_AGAIN) nohost\.invalid\n$/,
    );
    for (const run of [refused, unknownHost]) assert.ok(!/hunter2|:pw@/.test(run.stderr), run.stderr);
  });
});

describe("keys rotate --overlap-hours", () => {
  // 1e2 and 0x10 were read as 100 and 16 hours; -1 gave parseArgs' "argument is ambiguous".
  test("takes decimal digits only, and says so for anything else", async () => {
    const values = ["1e2", "0x10", "-1", "", " 5", "721", "1."];
    const runs = await eachInProcess(values.map((value) => ["keys", "rotate", "--overlap-hours", value]));
    runs.forEach((run, i) => {
      assert.equal(run.code, 2, `${values[i]}: ${run.stderr}`);
      assert.match(
        run.stderr,
        new RegExp(
          `^gatehouse: --overlap-hours must be a number of hours from 0 to 720 in decimal digits \\(e\\.g\\. 24 or 0\\.5\\), got "${values[i]?.replace(".", "\\.")}"`,
        ),
        values[i],
      );
    });
  });
});

describe("serve, when its start fails after the database is open", () => {
  for (const dialect of testDatabases()) {
    // buildApp threw (a value sealed with a key not configured): on SQLite the checkpoint worker
    // kept the process alive, not listening and not exiting; on PostgreSQL it exited ~10 s later.
    test(`exits 1 at once with the one-line reason [${dialect.name}]`, async () => {
      const database = await dialect.create({ migrate: false });
      const port = await freePort();
      try {
        const first = await startGatehouse({
          databaseUrl: database.url,
          env: { GATEHOUSE_SECRET_KEY: Buffer.alloc(32, 1).toString("base64") },
        });
        await first.close();
        const serve = spawnGatehouse({
          port,
          env: {
            GATEHOUSE_BASE_URL: `http://localhost:${port}`,
            GATEHOUSE_DATABASE_URL: database.url,
            GATEHOUSE_SECRET_KEY: Buffer.alloc(32, 2).toString("base64"),
          },
        });
        try {
          const deadline = Date.now() + 60_000;
          while (!serve.output.some((line) => line.startsWith("gatehouse: ")) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          const reason = serve.output.find((line) => line.startsWith("gatehouse: "));
          assert.match(reason ?? serve.output.join("\n"), /sealed with key \S+, which is not configured/);
          const exit = await Promise.race([
            serve.exited,
            new Promise((resolve) => setTimeout(() => resolve("still running"), 5000)),
          ]);
          assert.deepEqual(exit, { code: 1, signal: null });
        } finally {
          await serve.stop(1000);
        }
      } finally {
        await database.drop();
      }
    });
  }
});
