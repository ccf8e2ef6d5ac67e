import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { SECRET_KEY_FILE } from "../../src/crypto/secret-key.js";
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
