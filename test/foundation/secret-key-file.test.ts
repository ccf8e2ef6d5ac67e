import assert from "node:assert/strict";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { SECRET_KEY_FILE } from "../../src/crypto/secret-key.js";
import { runGatehouseCli } from "../support/cli.js";
import { startGatehouse } from "../support/gatehouse.js";

test("without GATEHOUSE_SECRET_KEY a SQLite deployment keeps a 0600 key beside the database and reuses it", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-key-"));
  const dataDir = path.join(dir, "data");
  const databaseUrl = `sqlite:${path.join(dataDir, "gatehouse.db")}`;
  const keyFile = path.join(dataDir, SECRET_KEY_FILE);
  try {
    const first = await startGatehouse({ databaseUrl, env: { GATEHOUSE_SECRET_KEY: undefined } });
    let sealed: string;
    let key: string;
    try {
      const stat = statSync(keyFile);
      assert.equal(stat.mode & 0o777, 0o600, `mode ${(stat.mode & 0o777).toString(8)}`);
      key = readFileSync(keyFile, "utf8");
      assert.equal(Buffer.from(key.trim(), "base64").length, 32);
      sealed = first.ctx.box.seal("client secret", "connection:1");
      assert.ok(!first.logs.join("").includes(key.trim()), "the generated key is not logged");
    } finally {
      await first.close();
    }

    const second = await startGatehouse({ databaseUrl, env: { GATEHOUSE_SECRET_KEY: undefined } });
    try {
      assert.equal(readFileSync(keyFile, "utf8"), key, "the key file is not rewritten");
      assert.equal(second.ctx.box.open(sealed, "connection:1"), "client secret");
      assert.equal(second.ctx.cookieSecret.equals(first.ctx.cookieSecret), true, "cookies stay valid");
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a configured GATEHOUSE_SECRET_KEY is used and no key file is written", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-key-"));
  const databaseUrl = `sqlite:${path.join(dir, "gatehouse.db")}`;
  try {
    const gh = await startGatehouse({
      databaseUrl,
      env: { GATEHOUSE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") },
    });
    try {
      assert.throws(() => statSync(path.join(dir, SECRET_KEY_FILE)), /ENOENT/);
    } finally {
      await gh.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a corrupt key file stops the start instead of silently replacing the key", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-key-"));
  const databaseUrl = `sqlite:${path.join(dir, "gatehouse.db")}`;
  try {
    writeFileSync(path.join(dir, SECRET_KEY_FILE), "not a key\n", { mode: 0o600 });
    await assert.rejects(startGatehouse({ databaseUrl, env: { GATEHOUSE_SECRET_KEY: undefined } }));
    assert.equal(readFileSync(path.join(dir, SECRET_KEY_FILE), "utf8"), "not a key\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A backup restored into another folder without its key: a new key was written beside it, then
// the start failed on the first sealed value with a hint at GATEHOUSE_PREVIOUS_SECRET_KEYS, and
// the wrong key stayed on disk and passed for the right one from then on.
test("a database found without its key file is refused with what to do, by serve and config check, and nothing is written", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-key-"));
  const original = path.join(dir, "original", "gatehouse.db");
  const restored = path.join(dir, "restored", "gatehouse.db");
  try {
    const gh = await startGatehouse({
      databaseUrl: `sqlite:${original}`,
      env: { GATEHOUSE_SECRET_KEY: undefined },
    });
    await gh.close();
    mkdirSync(path.dirname(restored));
    const backup = await runGatehouseCli(
      { GATEHOUSE_DATABASE_URL: `sqlite:${original}` },
      "backup",
      "--to",
      restored,
    );
    assert.equal(backup.code, 0, backup.stderr);
    const before = readdirSync(path.dirname(restored)).sort();

    const env = { GATEHOUSE_DATABASE_URL: `sqlite:${restored}`, GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1" };
    const [serve, check, list] = await Promise.all([
      runGatehouseCli(env, "serve"),
      runGatehouseCli(env, "config", "check"),
      runGatehouseCli(env, "apikey", "list"),
    ]);
    for (const run of [serve, check, list]) {
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        /^gatehouse: the secret key of the database .*restored\/gatehouse\.db is missing: copy the secret\.key that was backed up with it to .*restored\/secret\.key, or set GATEHOUSE_SECRET_KEY or GATEHOUSE_SECRET_KEY_FILE\n$/,
      );
    }
    assert.deepEqual(readdirSync(path.dirname(restored)).sort(), before, "no key file, nothing else written");

    copyFileSync(path.join(dir, "original", SECRET_KEY_FILE), path.join(dir, "restored", SECRET_KEY_FILE));
    const restoredCheck = await runGatehouseCli(env, "apikey", "list");
    assert.equal(restoredCheck.code, 0, restoredCheck.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("gatehouse migrate creates a new database's key with it, so a start without GATEHOUSE_SECRET_KEY finds it", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-key-"));
  const databaseUrl = `sqlite:${path.join(dir, "data", "gatehouse.db")}`;
  try {
    const migrate = await runGatehouseCli({ GATEHOUSE_DATABASE_URL: databaseUrl }, "migrate");
    assert.equal(migrate.code, 0, migrate.stderr);
    const key = readFileSync(path.join(dir, "data", SECRET_KEY_FILE), "utf8");
    assert.equal(statSync(path.join(dir, "data", SECRET_KEY_FILE)).mode & 0o777, 0o600);
    const gh = await startGatehouse({ databaseUrl, env: { GATEHOUSE_SECRET_KEY: undefined } });
    await gh.close();
    assert.equal(readFileSync(path.join(dir, "data", SECRET_KEY_FILE), "utf8"), key, "the same key is used");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
