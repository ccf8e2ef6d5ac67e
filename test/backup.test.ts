import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import { createApiKey } from "../src/api/keys.js";
import type { DevIdp } from "../src/dev-idp/server.js";
import { backupSqlite } from "../src/store/backup.js";
import { findConnection } from "../src/store/connections.js";
import { openStore } from "../src/store/database.js";
import { insertOrganization, listOrganizations } from "../src/store/organizations.js";
import { oidcOf } from "./store/fixtures.js";
import { Browser, passwordSignIn } from "./support/browserless.js";
import { runGatehouseCli } from "./support/cli.js";
import { freePort, startGatehouse, type TestGatehouse } from "./support/gatehouse.js";
import { schemaUrl } from "./support/postgres-schemas.js";
import { type GatehouseProcess, spawnGatehouse } from "./support/processes.js";
import { ADMIN, connectAcme, seedAcme, startGatehouseWithIdp } from "./support/sso.js";

describe("gatehouse backup (SQLite online backup)", () => {
  let dir: string;
  let gh: TestGatehouse;
  let idp: DevIdp;
  const secretKey = randomBytes(32).toString("base64");

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-backup-"));
    ({ gh, idp } = await startGatehouseWithIdp({
      databaseUrl: `sqlite:${path.join(dir, "live.db")}`,
      env: { GATEHOUSE_SECRET_KEY: secretKey },
    }));
  });
  after(async () => {
    await gh?.close();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a backup taken while the server runs restores and serves: password sign-in, API key, sealed client secret", async () => {
    const { organizationId } = await seedAcme(gh);
    const connection = await connectAcme(gh, idp, organizationId);
    const { key } = await createApiKey(gh.ctx, "acme", "ci");
    // Committed rows that may still sit in the write-ahead log, not yet in the main file.
    const file = path.join(dir, "copy.db");
    const report = await backupSqlite(`sqlite:${path.join(dir, "live.db")}`, file);
    assert.ok(report.pages > 0);
    await assert.rejects(backupSqlite(`sqlite:${path.join(dir, "live.db")}`, file), /exists already/);

    const restored = await startGatehouse({
      databaseUrl: `sqlite:${file}`,
      env: { GATEHOUSE_SECRET_KEY: secretKey },
    });
    try {
      const signedIn = await passwordSignIn(new Browser(), restored.url, ADMIN.email, ADMIN.password);
      assert.equal(signedIn.status, 303);
      const users = await fetch(`${restored.url}/api/v1/users`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(users.status, 200);
      const stored = await findConnection(restored.ctx.store.db, organizationId, connection.id);
      assert.ok(stored);
      assert.equal(
        restored.ctx.box.open(oidcOf(stored).clientSecretSealed, `connection:${connection.id}`),
        "gatehouse-okta-secret",
      );
    } finally {
      await restored.close();
    }
  });
});

describe("gatehouse restore (SQLite)", () => {
  let dir: string;
  let file: string;
  let serve: GatehouseProcess | undefined;
  const secretKey = randomBytes(32).toString("base64");
  const env = () => ({ GATEHOUSE_DATABASE_URL: `sqlite:${file}`, GATEHOUSE_SECRET_KEY: secretKey });

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-restore-"));
    file = path.join(dir, "gatehouse.db");
  });
  after(async () => {
    await serve?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function addOrganizations(...slugs: string[]): Promise<void> {
    const store = openStore(`sqlite:${file}`);
    try {
      for (const slug of slugs) await insertOrganization(store.db, { slug, name: slug }, Date.now());
    } finally {
      await store.close();
    }
  }

  async function slugsIn(database: string): Promise<string[]> {
    const store = openStore(`sqlite:${database}`);
    try {
      return (await listOrganizations(store.db, { limit: 100 })).map((org) => org.slug);
    } finally {
      await store.close();
    }
  }

  test("refuses while serve runs; after a kill -9 it brings back exactly the backup, keeping the database that was there", async () => {
    serve = spawnGatehouse({ port: await freePort(), env: env() });
    await serve.waitHealthy();
    await addOrganizations("kept");
    const backup = path.join(dir, "backup.db");
    const backedUp = await runGatehouseCli(env(), "backup", "--to", backup);
    assert.equal(backedUp.code, 0, backedUp.stderr);

    const refused = await runGatehouseCli(env(), "restore", "--from", backup);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /in use/);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.includes("before-restore")),
      [],
    );

    // Written after the backup; then the server dies without closing the database, leaving its
    // write-ahead log behind.
    const later = ["later-1", "later-2", "later-3", "later-4", "later-5"];
    await addOrganizations(...later);
    serve.child.kill("SIGKILL");
    await serve.exited;
    serve = undefined;
    assert.ok(existsSync(`${file}-wal`), "the killed server left its write-ahead log");
    assert.ok(existsSync(`${file}-shm`), "the killed server left its shared-memory index");

    const restored = await runGatehouseCli(env(), "restore", "--from", backup);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /secret key/);
    assert.equal(existsSync(`${file}-wal`), false);
    assert.equal(existsSync(`${file}-shm`), false);
    assert.deepEqual(await slugsIn(file), ["kept"]);

    const previous = readdirSync(dir).filter((name) => name.startsWith("gatehouse.db.before-restore-"));
    assert.equal(previous.length, 1);
    assert.match(restored.stdout, new RegExp(previous[0] ?? "-"));
    assert.deepEqual(await slugsIn(path.join(dir, previous[0] ?? "")), ["kept", ...later]);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith(".tmp")),
      [],
      "no staged copy is left behind",
    );

    // The restored database serves.
    serve = spawnGatehouse({ port: await freePort(), env: env() });
    await serve.waitHealthy();
    await serve.stop();
    serve = undefined;
  });

  test("refuses a file that is not a Gatehouse database, and leaves the database alone", async () => {
    const before = readFileSync(file);
    const text = path.join(dir, "notes.txt");
    writeFileSync(text, "not a database\n".repeat(100));
    const other = path.join(dir, "other.db");
    const sqlite = new SqliteDatabase(other);
    sqlite.exec("create table things (id integer primary key)");
    sqlite.close();

    for (const from of [text, other, path.join(dir, "missing.db")]) {
      const run = await runGatehouseCli(env(), "restore", "--from", from);
      assert.equal(run.code, 1, `${from}: ${run.stderr}`);
      assert.match(run.stderr, /not a (SQLite|Gatehouse) database|no backup at/);
    }
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(await slugsIn(file), ["kept"]);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.endsWith(".tmp")),
      [],
    );
  });
});

/** pg_dump and pg_restore: on this machine and in CI (.ci/run fails this test without them). */
function postgresClientTools(): boolean {
  const found = ["pg_dump", "pg_restore"].every(
    (tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0,
  );
  if (!found && process.env.CI) throw new Error("pg_dump and pg_restore are required in CI");
  return found;
}

const postgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL;

describe("gatehouse backup on PostgreSQL: the printed pg_dump and pg_restore commands", {
  skip: !postgresUrl
    ? "GATEHOUSE_TEST_POSTGRES_URL is not set"
    : !postgresClientTools()
      ? "pg_dump or pg_restore is not installed"
      : false,
}, () => {
  const suffix = randomBytes(4).toString("hex");
  const databases = [`gh_backup_from_${suffix}`, `gh_backup_to_${suffix}`];
  let dir: string;

  const databaseUrl = (database: string) => {
    const url = new URL(postgresUrl ?? "");
    url.pathname = `/${database}`;
    return schemaUrl(url.toString(), "gh_tenant");
  };

  async function asSuperuser(statement: string, database?: string): Promise<pg.QueryResult> {
    const url = new URL(postgresUrl ?? "");
    if (database) url.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end();
    }
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-pg-backup-"));
    for (const database of databases) await asSuperuser(`create database ${database}`);
  });
  after(async () => {
    for (const database of databases) await asSuperuser(`drop database if exists ${database} with (force)`);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a Gatehouse in its own schema round-trips into an empty database with exactly the commands printed", async () => {
    const [from, to] = databases as [string, string];
    await asSuperuser("create schema gh_tenant", from);
    const env = {
      GATEHOUSE_DATABASE_URL: databaseUrl(from),
      GATEHOUSE_SECRET_KEY: randomBytes(32).toString("base64"),
    };
    const passwordFile = path.join(dir, "password");
    writeFileSync(passwordFile, "a-long-enough-password\n", { mode: 0o600 });
    const created = await runGatehouseCli(
      env,
      ...["org", "create", "--slug", "acme", "--name", "Acme", "--admin-email", "a@acme.test"],
      ...["--admin-password-file", passwordFile],
    );
    assert.equal(created.code, 0, created.stderr);

    const advice = await runGatehouseCli(env, "backup", "--to", path.join(dir, "unused.db"));
    assert.equal(advice.code, 1);
    const commands = advice.stderr
      .split("\n")
      .filter((line) => /^\s+pg_(dump|restore) /.test(line))
      .map((line) => line.trim());
    assert.equal(commands.length, 2, advice.stderr);
    assert.match(commands[0] ?? "", /--schema=gh_tenant/);
    assert.doesNotMatch(commands[1] ?? "", /--schema/);
    for (const command of commands) {
      const run = spawnSync("bash", ["-c", command], {
        cwd: dir,
        env: { ...process.env, ...env, NEW_DATABASE_URL: databaseUrl(to) },
        encoding: "utf8",
      });
      assert.equal(run.status, 0, `${command}\n${run.stderr}`);
    }

    const restored = { ...env, GATEHOUSE_DATABASE_URL: databaseUrl(to) };
    const migrate = await runGatehouseCli(restored, "migrate");
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /up to date/);
    const organizations = await asSuperuser("select slug from gh_tenant.organizations", to);
    assert.deepEqual(
      organizations.rows.map((row: { slug: string }) => row.slug),
      ["acme"],
    );
    const inPublic = await asSuperuser(
      "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
      to,
    );
    assert.equal(inPublic.rows[0]?.n, 0);
  });
});
