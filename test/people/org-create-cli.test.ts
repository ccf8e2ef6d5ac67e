import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Browser, passwordSignIn } from "../support/browserless.js";
import { lastLine, runGatehouseCli, runGatehouseCliWithInput } from "../support/cli.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

const PASSWORD = "a password from a pipe";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("gatehouse org create: the owner's password never on the command line", () => {
  let dir: string;
  let env: Record<string, string>;
  let gh: TestGatehouse | undefined;
  const create = (slug: string, email: string, ...extra: string[]) => [
    "org",
    "create",
    "--slug",
    slug,
    "--name",
    slug.toUpperCase(),
    "--admin-email",
    email,
    ...extra,
  ];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-org-cli-"));
    env = { GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "g.db")}` };
  });
  after(async () => {
    await gh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a password as an argument is refused with the ways that work, and nothing is created", async () => {
    const run = await runGatehouseCli(env, ...create("argv", "a@argv.test", "--admin-password", PASSWORD));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--admin-password-stdin/);
    assert.match(run.stderr, /--admin-password-file/);
    assert.ok(!run.stderr.includes(PASSWORD), "the refused password is not echoed");
    assert.equal(run.stdout, "");
  });

  test("from standard input (--admin-password-stdin or -) and from a file", async () => {
    const stdin = await runGatehouseCliWithInput(
      env,
      `${PASSWORD}\n`,
      ...create("piped", "owner@piped.test", "--admin-password-stdin"),
    );
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.match(stdin.stdout, /^[0-9a-f-]{36}\n$/);
    const dash = await runGatehouseCliWithInput(
      env,
      PASSWORD,
      ...create("dashed", "owner@dashed.test", "--admin-password", "-"),
    );
    assert.equal(dash.code, 0, dash.stderr);
    const file = path.join(dir, "password");
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    const fromFile = await runGatehouseCli(
      env,
      ...create("filed", "owner@filed.test", "--admin-password-file", file),
    );
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const missing = await runGatehouseCli(
      env,
      ...create("nofile", "owner@nofile.test", "--admin-password-file", path.join(dir, "absent")),
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ENOENT/);

    gh = await startGatehouse({ databaseUrl: `sqlite:${path.join(dir, "g.db")}` });
    for (const email of ["owner@piped.test", "owner@dashed.test", "owner@filed.test"]) {
      const answer = await passwordSignIn(new Browser(), gh.url, email, PASSWORD);
      assert.equal(answer.status, 303, `${email} signs in with the password as given, newline dropped`);
    }
  });

  test("without a password the owner is invited: the id first, the setup link last", async () => {
    const run = await runGatehouseCli(env, ...create("invited", "owner@invited.test"));
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", UUID);
    const link = lastLine(run.stdout);
    assert.match(link, /^http:\/\/localhost:3000\/invitation\?token=[A-Za-z0-9_-]{43}$/);
    const json = await runGatehouseCli(env, ...create("jsoned", "owner@jsoned.test", "--json"));
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { id: string; setupLink: string; expiresAt: string };
    assert.match(parsed.id, UUID);
    assert.match(parsed.setupLink, /\/invitation\?token=/);
    assert.ok(Date.parse(parsed.expiresAt) > Date.now());
  });
});
