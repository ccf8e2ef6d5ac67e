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
