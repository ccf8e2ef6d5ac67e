import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { runGatehouseCli } from "../support/cli.js";

// Issue 10, item 12: `serve` started with each of these (or exited 1 without naming the
// variable). Each now stops before opening anything, with exit 2 and the variable's name.
test("serve refuses bad settings with exit 2, naming the variable, and writes nothing", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-refusals-"));
  try {
    const cases: [env: Record<string, string>, names: RegExp][] = [
      [{ GATEHOUSE_DATABASE_URL: "sqlite:" }, /GATEHOUSE_DATABASE_URL/],
      [{ GATEHOUSE_DATABASE_URL: "sqlite::memory:" }, /GATEHOUSE_DATABASE_URL/],
      [{ PORT: "0x9c41" }, /PORT/],
      [{ GATEHOUSE_LINKEDIN_CLIENT_ID: "li-client" }, /GATEHOUSE_LINKEDIN_CLIENT_SECRET/],
      [{ GATEHOUSE_LINKEDIN_ISSUER: "linkedin" }, /GATEHOUSE_LINKEDIN_ISSUER/],
      [{ LOG_LEVEL: "loud" }, /LOG_LEVEL/],
    ];
    const runs = await Promise.all(
      cases.map(([env]) =>
        runGatehouseCli(
          { GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "db", "x.db")}`, ...env },
          "serve",
        ),
      ),
    );
    for (const [i, run] of runs.entries()) {
      const [env, names] = cases[i] ?? [{}, /./];
      assert.equal(run.code, 2, `${JSON.stringify(env)}: ${run.stderr}`);
      assert.match(run.stderr, names);
    }
    assert.equal(existsSync(path.join(dir, "db")), false, "no database folder was created");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// config check said "valid" (exit 0) for each of these, which serve refused with exit 2; with
// GATEHOUSE_PREVIOUS_SECRET_KEYS=garbage, serve had written a secret.key before refusing.
test("config check refuses exactly what serve refuses, and neither writes anything", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-refusals-"));
  try {
    const cases: [env: Record<string, string>, names: RegExp][] = [
      [{ GATEHOUSE_SECRET_KEY: "short" }, /GATEHOUSE_SECRET_KEY must be 32 bytes.*got 3 bytes/],
      [{ GATEHOUSE_SECRET_KEY: Buffer.alloc(31, 1).toString("base64") }, /got 31 bytes/],
      [{ GATEHOUSE_PREVIOUS_SECRET_KEYS: "garbage" }, /GATEHOUSE_PREVIOUS_SECRET_KEYS/],
      [{ GATEHOUSE_DATABASE_URL: "sqlite::memory:" }, /GATEHOUSE_DATABASE_URL/],
      [{ GATEHOUSE_BASE_URL: "http://localhost:4105/sub" }, /GATEHOUSE_BASE_URL.*root of its origin/],
    ];
    const base = { GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "db", "x.db")}` };
    const runs = await Promise.all(
      cases.flatMap(([env]) => [
        runGatehouseCli({ ...base, ...env }, "config", "check"),
        runGatehouseCli({ ...base, ...env }, "serve"),
      ]),
    );
    for (const [i, run] of runs.entries()) {
      const [env, names] = cases[Math.floor(i / 2)] ?? [{}, /./];
      const command = i % 2 === 0 ? "config check" : "serve";
      assert.equal(run.code, 2, `${command} ${JSON.stringify(env)}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, names, command);
    }
    assert.equal(existsSync(path.join(dir, "db")), false, "no database folder or key file was created");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
