import { randomBytes, randomInt } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Pool } from "undici";
import { randomToken } from "../src/crypto/tokens.js";
import type { Dialect } from "../src/store/database.js";
import { type StartedChild, startChild, stopAll } from "./lib/children.js";
import { keepAlivePool } from "./lib/client.js";
import { type BenchDatabase, createPostgres, createSqlite, postgresServerUrl } from "./lib/databases.js";
import {
  buildGatehouse,
  type GatehouseProcess,
  gatehouseEnv,
  insertSessions,
  RESULTS,
  ROOT,
  seed,
  startGatehouse,
} from "./lib/gatehouse.js";
import { type Bounds, closedLoop, type Operation, openLoop } from "./lib/load.js";
import { cpuDelta, loadAverage, processCpuSeconds, processRssBytes, snapshotCpu } from "./lib/proc.js";
import {
  type BenchResults,
  type DatabaseResult,
  evaluateTargets,
  type FloorReport,
  formatReport,
  type PhaseReport,
  phaseReport,
  type References,
} from "./lib/report.js";
import { constantRequest, sessionCheck, ssoSignIn } from "./lib/sign-in.js";
import { type CpuProfile, formatProfileSummary, summarizeProfile } from "./profile-summary.js";

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

interface Settings {
  concurrency: number;
  returningUsers: number;
  warmupMs: number;
  signInMs: number;
  halfRateMs: number;
  floorMs: number;
  constantMs: number;
  sessions: number;
  sessionWarmupMs: number;
  sessionMs: number;
  pacedMs: number;
  pacedRate: number;
  /** Upper bound on operations per phase, whatever the time. */
  maxCount: number;
}

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

const MAX_IN_FLIGHT = 256;

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

function checkStopping(): void {
  if (stopping.signal.aborted) throw new Error("interrupted");
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function bounds(maxMs: number, maxCount: number): Bounds {
  return { maxMs, maxCount, signal: stopping.signal };
}

type PidGroups = () => Promise<Record<string, number[]>>;

/** Runs a load phase between two CPU snapshots of every process involved. */
async function measured(groups: PidGroups, run: () => ReturnType<typeof closedLoop>): Promise<PhaseReport> {
  const before = await groups();
  const first = snapshotCpu(before);
  const load = await run();
  const after = await groups();
  for (const [name, pids] of Object.entries(before))
    after[name] = [...new Set([...pids, ...(after[name] ?? [])])];
  const report = phaseReport(load, cpuDelta(first, snapshotCpu(after)));
  if (load.errors > 0) progress(`  ${load.errors} errors, e.g. ${load.errorSamples.join(" | ")}`);
  checkStopping();
  return report;
}

async function registerClient(
  op: Pool,
  client: { clientId: string; clientSecret: string; redirectUris: string[] },
): Promise<void> {
  const response = await op.request({
    method: "POST",
    path: "/_bench/clients",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(client),
  });
  await response.body.dump();
  if (response.statusCode !== 204) throw new Error(`fast OP refused the client: HTTP ${response.statusCode}`);
}

interface Shared {
  settings: Settings;
  command: string[];
  op: StartedChild;
  opPool: Pool;
  issuer: string;
  profileDir: string | undefined;
}

async function runFloor(shared: Shared): Promise<FloorReport> {
  const { settings, op, issuer } = shared;
  const clientId = `floor-${randomBytes(4).toString("hex")}`;
  const clientSecret = randomToken();
  const redirectUri = "http://127.0.0.1/floor/callback";
  await registerClient(shared.opPool, { clientId, clientSecret, redirectUris: [redirectUri] });
  const floor = await startChild("floor", {
    args: [
      "--import",
      "tsx",
      path.join(ROOT, "bench/floor.ts"),
      `--issuer=${issuer}`,
      `--client-id=${clientId}`,
      `--client-secret=${clientSecret}`,
      `--redirect-uri=${redirectUri}`,
      `--concurrency=${settings.concurrency}`,
      `--warmup-count=${settings.returningUsers * 2}`,
      `--max-count=${settings.maxCount}`,
      `--max-ms=${settings.floorMs}`,
    ],
    waitForJsonLine: true,
    readyTimeoutMs: 60_000,
    logFile: path.join(RESULTS, "floor.log"),
  });
  try {
    const groups = { op: [op.pid], floor: [floor.pid] };
    const before = snapshotCpu(groups);
    const result = (await floor.nextMessage(settings.floorMs + 60_000)) as {
      completed: number;
      errors: number;
      errorSamples: string[];
      elapsedMs: number;
      rate: number;
      cpuSeconds: number;
    };
    const delta = cpuDelta(before, snapshotCpu(groups));
    if (result.errors > 0)
      progress(`  floor: ${result.errors} errors, e.g. ${result.errorSamples.join(" | ")}`);
    return {
      rate: result.rate,
      completed: result.completed,
      errors: result.errors,
      errorSamples: result.errorSamples,
      seconds: result.elapsedMs / 1000,
      cpuMsPerSignIn: (result.cpuSeconds * 1000) / result.completed,
      opCpuMsPerSignIn: ((delta.cpu.op ?? 0) * 1000) / result.completed,
      otherCores: delta.otherCores,
    };
  } finally {
    await floor.stop();
  }
}

async function runConstant(shared: Shared): Promise<PhaseReport> {
  const { settings } = shared;
  const server = await startChild("constant-server", {
    args: ["--import", "tsx", path.join(ROOT, "bench/constant-server.ts")],
    waitForJsonLine: true,
  });
  const pool = keepAlivePool(`http://127.0.0.1:${String(server.ready.port)}`);
  try {
    const op: Operation = () => constantRequest(pool);
    await closedLoop(settings.concurrency, bounds(1000, settings.maxCount), op);
    return await measured(
      async () => ({ server: [server.pid], client: [process.pid] }),
      () => closedLoop(settings.concurrency, bounds(settings.constantMs, settings.maxCount), op),
    );
  } finally {
    await pool.close();
    await server.stop();
  }
}

async function runDatabase(shared: Shared, dialect: Dialect): Promise<DatabaseResult> {
  const { settings, op, opPool, issuer } = shared;
  const notes: string[] = [];
  let database: BenchDatabase;
  if (dialect === "sqlite") database = createSqlite();
  else database = await createPostgres(postgresServerUrl() ?? "");
  try {
    const port = await freePort();
    const secretKey = randomBytes(32).toString("base64");
    const clientId = `gatehouse-${dialect}`;
    const clientSecret = randomToken();
    await registerClient(opPool, {
      clientId,
      clientSecret,
      redirectUris: [`http://127.0.0.1:${port}/sso/oidc/callback`],
    });
    progress(`${dialect}: creating the organization and the connection`);
    const seeded = await seed(gatehouseEnv({ databaseUrl: database.setupUrl, secretKey, port }), {
      issuer,
      clientId,
      clientSecret,
    });
    let gatehouse: GatehouseProcess | undefined;
    try {
      const profileDir = shared.profileDir ? path.join(shared.profileDir, dialect) : undefined;
      const spawnedAt = performance.now();
      gatehouse = await startGatehouse({
        command: shared.command,
        env: gatehouseEnv({ databaseUrl: database.gatehouseUrl, secretKey, port }),
        logFile: path.join(RESULTS, `gatehouse-${dialect}.log`),
        cpuProfileDir: profileDir,
      });
      const gh = gatehouse;
      const pool = keepAlivePool(gh.url);
      const windows: Record<string, [number, number]> = {};
      const since = () => performance.now() - spawnedAt;
      try {
        const groups: PidGroups = async () => ({
          gatehouse: [gh.pid],
          op: [op.pid],
          client: [process.pid],
          ...(dialect === "postgres" ? { postgres: await database.gatehouseBackendPids() } : {}),
        });
        const c = settings.concurrency;
        const users = settings.returningUsers;
        const returning: Operation = (i) => ssoSignIn(pool, opPool, `user${i % users}@acme.test`);

        progress(`${dialect}: signing in ${users} returning users once, then warming up`);
        const first = await closedLoop(c, bounds(60_000, users), returning);
        if (first.completed !== users) {
          throw new Error(`the first sign-ins failed: ${first.errorSamples.join(" | ") || "interrupted"}`);
        }
        await closedLoop(c, bounds(settings.warmupMs, settings.maxCount), returning);
        checkStopping();

        progress(`${dialect}: floor, openid-client against the fast OP (${settings.floorMs / 1000} s)`);
        const floor = await runFloor(shared);
        progress(`  ${floor.rate.toFixed(0)} sign-ins/s`);
        checkStopping();

        progress(`${dialect}: sign-ins, returning users (${settings.signInMs / 1000} s)`);
        let from = since();
        const returningReport = await measured(groups, () =>
          closedLoop(c, bounds(settings.signInMs, settings.maxCount), returning),
        );
        progress(`  ${returningReport.rate.toFixed(0)} sign-ins/s`);

        progress(`${dialect}: sign-ins, new users (${settings.signInMs / 1000} s)`);
        const batch = randomBytes(4).toString("hex");
        const newUsers: Operation = (i) => ssoSignIn(pool, opPool, `new-${batch}-${i}@acme.test`);
        const newReport = await measured(groups, () =>
          closedLoop(c, bounds(settings.signInMs, settings.maxCount), newUsers),
        );
        windows["sign-in phases (returning + new users)"] = [from, since()];
        progress(`  ${newReport.rate.toFixed(0)} sign-ins/s`);

        const halfRate = returningReport.rate / 2;
        progress(
          `${dialect}: callback latency at ${halfRate.toFixed(0)} sign-ins/s (${settings.halfRateMs / 1000} s)`,
        );
        const halfReport = await measured(groups, () =>
          openLoop(
            halfRate,
            MAX_IN_FLIGHT,
            bounds(settings.halfRateMs, Math.ceil((halfRate * settings.halfRateMs) / 1000)),
            returning,
          ),
        );
        if (halfReport.skipped > 0)
          notes.push(`half rate: ${halfReport.skipped} sign-ins skipped (in flight > ${MAX_IN_FLIGHT})`);

        const { n: loginTransactions } = await seeded.ctx.store.db
          .selectFrom("login_transactions")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        const rssBefore = processRssBytes(gh.pid) ?? Number.NaN;
        progress(`${dialect}: inserting ${settings.sessions.toLocaleString("en-US")} sessions`);
        const userIds = (
          await seeded.ctx.store.db
            .selectFrom("users")
            .select("id")
            .where("email", "like", "user%@acme.test")
            .execute()
        ).map((r) => r.id);
        const insertBegan = performance.now();
        const tokens = await insertSessions(
          seeded,
          userIds,
          settings.sessions,
          dialect === "postgres" ? 8 : 1,
        );
        const insertSeconds = (performance.now() - insertBegan) / 1000;
        checkStopping();

        const check: Operation = () => sessionCheck(pool, tokens[randomInt(tokens.length)]!);
        await closedLoop(c, bounds(settings.sessionWarmupMs, settings.maxCount), check);
        progress(`${dialect}: session checks (${settings.sessionMs / 1000} s)`);
        from = since();
        const maxReport = await measured(groups, () =>
          closedLoop(c, bounds(settings.sessionMs, settings.maxCount), check),
        );
        windows["session checks at full load"] = [from, since()];
        progress(`  ${maxReport.rate.toFixed(0)} checks/s`);

        const pacedRate = Math.min(settings.pacedRate, maxReport.rate);
        if (pacedRate < settings.pacedRate) {
          notes.push(
            `session checks paced at the measured maximum, ${pacedRate.toFixed(0)}/s, below ${settings.pacedRate}/s`,
          );
        }
        progress(
          `${dialect}: session checks paced at ${pacedRate.toFixed(0)}/s (${settings.pacedMs / 1000} s)`,
        );
        const pacedReport = await measured(groups, () =>
          openLoop(
            pacedRate,
            MAX_IN_FLIGHT,
            bounds(settings.pacedMs, Math.ceil((pacedRate * settings.pacedMs) / 1000)),
            check,
          ),
        );
        if (pacedReport.skipped > 0)
          notes.push(`paced checks: ${pacedReport.skipped} skipped (in flight > ${MAX_IN_FLIGHT})`);
        const rssAfter = processRssBytes(gh.pid) ?? Number.NaN;
        const rssPeak = processRssBytes(gh.pid, "VmHWM") ?? Number.NaN;

        const result: DatabaseResult = {
          dialect,
          floor,
          returning: returningReport,
          newUsers: newReport,
          halfRate: halfReport,
          sessionCount: tokens.length,
          sessionInsertSeconds: insertSeconds,
          sessionMax: maxReport,
          sessionPaced: pacedReport,
          rssBeforeBytes: rssBefore,
          rssAfterBytes: rssAfter,
          rssPeakBytes: rssPeak,
          loginTransactions: Number(loginTransactions),
          ...(profileDir ? { profileWindows: windows } : {}),
          notes,
        };
        await pool.close();
        if (profileDir) await summarizeProfiles(gh, profileDir, dialect, windows);
        return result;
      } finally {
        await pool.close().catch(() => undefined);
      }
    } finally {
      await gatehouse?.stop();
      await seeded.ctx.store.close();
    }
  } finally {
    await database.drop();
  }
}

/** Stops Gatehouse so that it writes its profile, then summarises each phase's window of it. */
async function summarizeProfiles(
  gatehouse: GatehouseProcess,
  profileDir: string,
  dialect: Dialect,
  windows: Record<string, [number, number]>,
): Promise<void> {
  const cpuBefore = processCpuSeconds(gatehouse.pid);
  const code = await gatehouse.stop({ graceMs: 30_000 });
  if (code === null) progress(`Gatehouse did not stop in time (cpu ${cpuBefore}); no profile`);
  const file = path.join(profileDir, "gatehouse.cpuprofile");
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const texts: string[] = [];
  for (const [name, [fromMs, toMs]] of Object.entries(windows)) {
    texts.push(formatProfileSummary(`${dialect}, ${name}`, summarizeProfile(profile, { fromMs, toMs })));
  }
  const text = texts.join("\n\n");
  writeFileSync(path.join(RESULTS, `profile-${dialect}.txt`), `${text}\n`);
  profileTexts.push(text);
}

const profileTexts: string[] = [];

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
    "rate limit raised: GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE=1000000 (default 60 a minute per IP; every virtual browser is 127.0.0.1); the limit is still counted, one upsert per start and per callback",
  );

  const profileDir = values.profile
    ? path.join(RESULTS, "profiles", startedAt.replace(/[:.]/g, "-"))
    : undefined;
  const op = await startChild("fast-op", {
    args: ["--import", "tsx", path.join(ROOT, "bench/fast-op.ts")],
    waitForJsonLine: true,
    logFile: path.join(RESULTS, "fast-op.log"),
  });
  const issuer = String(op.ready.issuer);
  const opPool = keepAlivePool(issuer);
  try {
    const shared: Shared = { settings, command, op, opPool, issuer, profileDir };
    progress(`constant Fastify route (${settings.constantMs / 1000} s)`);
    const constant = await runConstant(shared);
    progress(`  ${constant.rate.toFixed(0)} requests/s`);
    const references: References = { constant };

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
    if (profileTexts.length > 0) process.stdout.write(`\n${profileTexts.join("\n\n")}\n`);
    process.stdout.write(`\nwritten: ${path.relative(ROOT, path.join(RESULTS, "latest.json"))}\n`);
    return 0;
  } finally {
    await opPool.close();
    await op.stop();
  }
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
