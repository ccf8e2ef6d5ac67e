import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Dialect } from "../src/store/database.js";
import { stopAll } from "./lib/children.js";
import { runDatabase } from "./lib/database-run.js";
import { postgresServerUrl } from "./lib/databases.js";
import { buildGatehouse, RESULTS, ROOT } from "./lib/gatehouse.js";
import { loadAverage } from "./lib/proc.js";
import {
  type BenchResults,
  type DatabaseResult,
  evaluateTargets,
  formatReport,
  type References,
} from "./lib/report.js";
import { progress, runConstant, type Settings, type Shared, startFastOp } from "./lib/scenario.js";

const USAGE = `Usage: npm run bench -- [options]

Drives Gatehouse over HTTP on 127.0.0.1 against a fast local OpenID Provider and prints
sign-ins per second, callback and session-check latency, CPU per operation and RSS growth,
for SQLite and (when GATEHOUSE_BENCH_POSTGRES_URL or GATEHOUSE_TEST_POSTGRES_URL is set)
PostgreSQL, next to two references: a bare openid-client sign-in and a constant Fastify route.

  --quick           short phases and 10,000 sessions: a smoke run of about half a minute
  --db <which>      sqlite, postgres or all (default: all that are available)
  --profile         run Gatehouse under --cpu-prof and summarise the sign-in and session-check
                    phases (numbers then include the profiler's overhead)
  --source <from>   dist (default: src/ compiled into bench/results/build) or tsx (src/ as is)

Results are also written to bench/results/latest.json.`;

const FULL: Settings = {
  concurrency: 32,
  returningUsers: 200,
  warmupMs: 3000,
  signInMs: 15_000,
  halfRateMs: 10_000,
  floorMs: 10_000,
  constantMs: 6000,
  sessions: 100_000,
  sessionWarmupMs: 2000,
  sessionMs: 10_000,
  pacedMs: 10_000,
  pacedRate: 5000,
  maxCount: 500_000,
};

const QUICK: Settings = {
  ...FULL,
  returningUsers: 50,
  warmupMs: 500,
  signInMs: 1500,
  halfRateMs: 1500,
  floorMs: 1500,
  constantMs: 1000,
  sessions: 10_000,
  sessionWarmupMs: 300,
  sessionMs: 1500,
  pacedMs: 1500,
};

const stopping = new AbortController();
let interrupts = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\n${signal}: stopping after the current phase (again to quit at once)\n`);
    stopping.abort();
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      db: { type: "string", default: "all" },
      source: { type: "string", default: "dist" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const settings = values.quick ? QUICK : FULL;
  const dialects: Dialect[] = [];
  if (values.db === "all" || values.db === "sqlite") dialects.push("sqlite");
  if (values.db === "all" || values.db === "postgres") {
    if (postgresServerUrl()) dialects.push("postgres");
    else if (values.db === "postgres") throw new Error("set GATEHOUSE_BENCH_POSTGRES_URL for --db postgres");
  }
  if (dialects.length === 0) throw new Error(`--db must be sqlite, postgres or all, not "${values.db}"`);
  if (values.source !== "dist" && values.source !== "tsx") throw new Error("--source must be dist or tsx");

  mkdirSync(RESULTS, { recursive: true });
  const notes: string[] = [];
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  let command: string[];
  if (values.source === "dist") {
    progress("compiling src/ into bench/results/build (when changed)");
    const build = buildGatehouse();
    if (build.warning) notes.push(build.warning.split("\n")[0] ?? "tsc reported errors");
    command = [build.main];
  } else {
    command = ["--import", "tsx", path.join(ROOT, "src/main.ts")];
  }
  if (!postgresServerUrl()) notes.push("PostgreSQL skipped: GATEHOUSE_BENCH_POSTGRES_URL is not set");
  notes.push(
    "rate limits raised: GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE=1000000 and GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES=10000000 (defaults 60 and 100 per IP; every virtual browser is 127.0.0.1); both are still counted, in one upsert per start",
  );

  const profileDir = values.profile
    ? path.join(RESULTS, "profiles", startedAt.replace(/[:.]/g, "-"))
    : undefined;
  const { op, opPool, issuer } = await startFastOp();
  try {
    const shared: Shared = {
      settings,
      command,
      op,
      opPool,
      issuer,
      profileDir,
      signal: stopping.signal,
      profileTexts: [],
    };
    progress(`constant Fastify route (${settings.constantMs / 1000} s)`);
    const constant = await runConstant(shared);
    progress(`  ${constant.rate.toFixed(0)} requests/s`);
    const cacheSessions = values.quick ? 10_000 : 100_000;
    progress(`session cache memory (${cacheSessions.toLocaleString("en-US")} sessions)`);
    const references: References = { constant, sessionCache: measureSessionCache(cacheSessions) };

    const databases: DatabaseResult[] = [];
    for (const dialect of dialects) databases.push(await runDatabase(shared, dialect));

    const results: BenchResults = {
      startedAt,
      mode: values.quick ? "quick" : "full",
      profiled: values.profile,
      source: values.source === "dist" ? "compiled dist (bench/results/build)" : "src via tsx",
      concurrency: settings.concurrency,
      machine: { cores: availableParallelism(), loadAverageAtStart: loadAtStart, node: process.version },
      settings: { ...settings },
      references,
      databases,
      targets: evaluateTargets(references, databases),
      notes,
    };
    writeFileSync(path.join(RESULTS, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\n${formatReport(results)}\n`);
    if (shared.profileTexts.length > 0) process.stdout.write(`\n${shared.profileTexts.join("\n\n")}\n`);
    process.stdout.write(`\nwritten: ${path.relative(ROOT, path.join(RESULTS, "latest.json"))}\n`);
    return 0;
  } finally {
    await opPool.close();
    await op.stop();
  }
}

/** bench/session-cache-memory.ts in a child with --expose-gc: its one JSON line. */
function measureSessionCache(sessions: number): { sessions: number; heapBytes: number } {
  const output = execFileSync(
    process.execPath,
    [
      "--expose-gc",
      "--import",
      "tsx",
      path.join(ROOT, "bench/session-cache-memory.ts"),
      `--sessions=${sessions}`,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  const { heapBytes } = JSON.parse(output) as { heapBytes: number };
  return { sessions, heapBytes };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
