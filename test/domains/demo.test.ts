import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runGatehouseCli } from "../support/cli.js";
import { freePort } from "../support/gatehouse.js";

/**
 * The demo stays five minutes: `gatehouse demo` (what `npm run demo` runs once built) verifies
 * acme.test as the operator, so SSO works there without a DNS zone, and says so.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-demo-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the demo pre-verifies acme.test as the operator, and says that a real domain needs its TXT record", async () => {
  const databaseUrl = `sqlite:${path.join(dir, "gatehouse.db")}`;
  const [port, idpPort, appPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(GATEHOUSE_|NODE_TEST|LOG_LEVEL$|PORT$|HOST$)/.test(name)) env[name] = value;
  }
  Object.assign(env, {
    PORT: String(port),
    HOST: "127.0.0.1",
    GATEHOUSE_BASE_URL: `http://localhost:${port}`,
    GATEHOUSE_DATABASE_URL: databaseUrl,
  });
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/main.ts", "demo", "--idp-port", String(idpPort), "--app-port", String(appPort)],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    // Resolves on the banner, or when the demo exits without printing it.
    await Promise.race([
      new Promise<void>((resolve) => {
        child.stdout.on("data", () => {
          if (output.includes("Gatehouse demo is running")) resolve();
        });
      }),
      exited.then(() => assert.fail(`the demo exited early:\n${output}`)),
    ]);
    assert.match(output, /Identity provider domain {2}tick acme\.test/);
    assert.match(output, /acme\.test is pre-verified by the\s+operator/);
    assert.match(output, /a real domain is proven with a DNS TXT\s+record, see docs\/domains\.md/);
  } finally {
    child.kill("SIGTERM");
    await exited;
  }

  const listed = await runGatehouseCli(
    { GATEHOUSE_DATABASE_URL: databaseUrl },
    "domain",
    "list",
    "--org",
    "acme",
    "--json",
  );
  assert.equal(listed.code, 0, listed.stderr);
  const domains = JSON.parse(listed.stdout) as {
    domain: string;
    state: string;
    verifiedBy: string;
    active: boolean;
  }[];
  assert.deepEqual(
    domains.map((d) => [d.domain, d.state, d.verifiedBy, d.active]),
    [["acme.test", "verified", "operator", true]],
  );
});
