/**
 * Every command shown in README.md and docs/*.md, so the docs cannot rot: each `gatehouse …`
 * line in a fenced shell block must parse (its options are known: `--help` appended answers 0),
 * and those that can run offline run for real, in document order, against a temporary SQLite
 * database. Each `npm …` line names a script that exists; the ones not run here say why below.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runGatehouseCli } from "./support/cli.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** npm lines that are not run by this test, with the reason; each still names a real script. */
const NOT_RUN_HERE: Record<string, string> = {
  "npm ci": "installs from the registry; CI runs it before everything else",
  "npm run demo":
    "starts Gatehouse, the development IdP and the sample app until stopped; test/browser covers the walk",
  "npm test": "is this suite itself",
  "npm start":
    "serves until stopped; test/graceful-shutdown.test.ts and test/multi-instance.test.ts start the built server",
  "npm run lint": "CI runs it on every change",
  "npm run format": "rewrites the working tree; CI runs lint, which fails on anything format would change",
  "npm run build": "CI runs it (npm ci runs it through prepare)",
  "npm run bench": "a minutes-long load test against PostgreSQL; run by hand before a release",
  "npm run soak": "a minutes-long fault-injection run against PostgreSQL; run by hand before a release",
};

/** gatehouse lines that only parse here (`--help`), with the reason they are not run for real. */
const PARSE_ONLY: { match: RegExp; reason: string }[] = [
  { match: /<[a-z-]+>/, reason: "a placeholder stands for a value a previous command printed" },
];

interface DocCommand {
  file: string;
  line: string;
  env: Record<string, string>;
  args: string[];
}

/** Splits a shell word list, quotes kept together. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) words.push(m[1] ?? m[2] ?? m[3] ?? "");
  return words;
}

function fencedLines(file: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const lines: string[] = [];
  for (const block of text.matchAll(/```(?:sh|bash|shell|console)?\n([\s\S]*?)```/g)) {
    // Continuation lines join; comments go.
    const joined = (block[1] ?? "").replace(/\\\n\s*/g, " ");
    for (const raw of joined.split("\n")) {
      // `$(date +%F)` in a file name reads as a fixed date.
      const line = raw
        .replace(/(^|\s)#.*$/, "")
        .replace(/\$\(date \+%F\)/g, "2026-01-31")
        .trim();
      if (line) lines.push(line);
    }
  }
  return lines;
}

// Reading order: the README, then operations (its production path creates the first
// organization, which the other pages' commands use), then the rest.
const FIRST = ["README.md", "docs/operations.md"];
const files = [
  ...FIRST,
  ...readdirSync(path.join(root, "docs"))
    .map((f) => `docs/${f}`)
    .filter((f) => !FIRST.includes(f)),
].filter((f) => f.endsWith(".md"));
const lines = files.flatMap((file) => fencedLines(file).map((line) => ({ file, line })));

function gatehouseCommands(): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const { file, line } of lines) {
    // `[VAR=value …] [npx] gatehouse <args>` up to a pipe, a redirection, a subshell's end or `&&`.
    const re =
      /((?:[A-Z_]+=\S+\s+)*)(?:npx\s+|node\s+dist\/main\.js\s+|\$\()?(?:^|\s|\()gatehouse\s+([^|;&)>]*)/g;
    for (const m of line.matchAll(re)) {
      const env = Object.fromEntries(
        shellWords(m[1] ?? "").map((pair) => [
          pair.slice(0, pair.indexOf("=")),
          pair.slice(pair.indexOf("=") + 1),
        ]),
      );
      commands.push({ file, line, env, args: shellWords(m[2] ?? "") });
    }
  }
  return commands;
}

const npmLines = lines.flatMap(({ file, line }) =>
  [...line.matchAll(/npm (run \S+|start|test|ci)\b/g)].map((m) => ({ file, command: `npm ${m[1]}` })),
);

describe("the commands in the docs", () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-docs-"));
    env = { GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "gatehouse.db")}` };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the docs show gatehouse and npm commands at all (the extraction works)", () => {
    assert.ok(gatehouseCommands().length >= 5, JSON.stringify(gatehouseCommands()));
    assert.ok(npmLines.some((l) => l.command === "npm run demo"));
  });

  test("every npm command names a script that exists, and is run here or says why not", () => {
    const scripts = (
      JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    for (const { file, command } of npmLines) {
      const script = command.replace(/^npm (run )?/, "");
      if (command !== "npm ci")
        assert.ok(scripts[script], `${file}: "${command}" names no script in package.json`);
      assert.ok(
        NOT_RUN_HERE[command],
        `${file}: "${command}" is neither run by this test nor listed with a reason`,
      );
    }
  });

  test("every gatehouse command parses: its command and options exist", async () => {
    for (const command of gatehouseCommands()) {
      const run = await runGatehouseCli(env, ...command.args, "--help");
      assert.equal(run.code, 0, `${command.file}: ${command.line}\n${run.stderr}`);
    }
  });

  test("the gatehouse commands that can run offline run, in document order, on a temporary SQLite database", async () => {
    for (const command of gatehouseCommands()) {
      if (PARSE_ONLY.some((p) => p.match.test(command.line))) continue;
      // A path the docs write under /backups or /etc goes to the temporary folder instead.
      const args = command.args.map((a) =>
        /^\/(backups|etc)\//.test(a) ? path.join(dir, path.basename(a)) : a,
      );
      const run = await runGatehouseCli({ ...env, ...command.env }, ...args);
      assert.equal(run.code, 0, `${command.file}: ${command.line}\n${run.stderr}`);
    }
  });
});
