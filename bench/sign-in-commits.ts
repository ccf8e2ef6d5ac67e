import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { stopAll } from "./lib/children.js";
import { keepAlivePool } from "./lib/client.js";
import { createPostgres, postgresServerUrl } from "./lib/databases.js";
import { buildGatehouse, gatehouseEnv, RESULTS, seed, startGatehouse } from "./lib/gatehouse.js";
import { closedLoop, type LoadResult, type Operation, openLoop, percentiles } from "./lib/load.js";
import { freePort, measureCpu, progress, registerClient, startFastOp } from "./lib/scenario.js";
import { ssoSignIn } from "./lib/sign-in.js";

const USAGE = `Usage: GATEHOUSE_BENCH_POSTGRES_URL=postgres://... npm run bench:commits -- [options]

PostgreSQL sign-ins with the short-lived tables (rate_limits, login_transactions) unlogged, as
Gatehouse migrates them, against the same tables logged, in alternating rounds on one Gatehouse
process and one database: the only difference between the rounds is whether a commit of those
rows waits for a WAL flush. Each round: returning users' sign-ins closed-loop (rate, CPU per
sign-in of Gatehouse and of its PostgreSQL backends, the server's WAL flushes per sign-in), then
paced at a fixed rate (the callback's p50 / p99).

  --rounds <n>     alternating rounds of each kind (default 3)
  --seconds <s>    length of each phase (default 8)
  --rate <n>       the paced phase's sign-ins per second (default 40)`;

const TABLES = ["rate_limits", "login_transactions"] as const;

interface Round {
  kind: "unlogged" | "logged";
  rate: number;
  gatehouseMs: number;
  postgresMs: number;
  walFlushes: number;
  paced: { p50: number; p99: number; rate: number };
}

const stopping = new AbortController();
process.on("SIGINT", () => stopping.abort());

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "8" },
      rate: { type: "string", default: "40" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const serverUrl = postgresServerUrl();
  if (!serverUrl) throw new Error("set GATEHOUSE_BENCH_POSTGRES_URL to a PostgreSQL server");
  const rounds = Number(values.rounds);
  const ms = Number(values.seconds) * 1000;
  const pacedRate = Number(values.rate);
  if (!(rounds >= 1 && ms >= 1000 && pacedRate >= 1)) {
    throw new Error("--rounds and --rate must be at least 1, --seconds at least 1");
  }

  progress("compiling src/ into bench/results/build (when changed)");
  const build = buildGatehouse();
  const database = await createPostgres(serverUrl);
  const { op, opPool, issuer } = await startFastOp();
  try {
    const port = await freePort();
    const secretKey = randomBytes(32).toString("base64");
    const client = { clientId: "bench-commits", clientSecret: randomBytes(16).toString("hex") };
    await registerClient(opPool, { ...client, redirectUris: [`http://127.0.0.1:${port}/sso/oidc/callback`] });
    const seeded = await seed(gatehouseEnv({ databaseUrl: database.setupUrl, secretKey, port }), {
      issuer,
      ...client,
    });
    const gatehouse = await startGatehouse({
      command: [build.main],
      env: gatehouseEnv({ databaseUrl: database.gatehouseUrl, secretKey, port }),
      logFile: path.join(RESULTS, "sign-in-commits-gatehouse.log"),
    });
    const pool = keepAlivePool(gatehouse.url);
    const signIn: Operation = (i) => ssoSignIn(pool, opPool, `user${i % 200}@acme.test`);
    const persist = async (kind: Round["kind"]) => {
      for (const table of TABLES) {
        await sql`alter table ${sql.table(table)} set ${sql.raw(kind)}`.execute(seeded.ctx.store.db);
      }
    };
    try {
      progress("signing in 200 users once, then warming up");
      expectComplete(await closedLoop(16, bounds(120_000, 200), signIn));
      await closedLoop(16, bounds(ms, 1_000_000), signIn);
      const results: Round[] = [];
      for (let i = 0; i < rounds * 2 && !stopping.signal.aborted; i++) {
        const kind = i % 2 === 0 ? "unlogged" : "logged";
        await persist(kind);
        const flushes0 = (await database.walFlushes()) ?? Number.NaN;
        const groups = async () => ({
          gatehouse: [gatehouse.pid],
          postgres: await database.gatehouseBackendPids(),
        });
        const full = await measureCpu(groups, () => closedLoop(16, bounds(ms, 1_000_000), signIn));
        const flushes1 = (await database.walFlushes()) ?? Number.NaN;
        const paced = await openLoop(pacedRate, 256, bounds(ms, Math.ceil((pacedRate * ms) / 1000)), signIn);
        expectComplete(paced);
        const p = percentiles(paced.latencies);
        const round: Round = {
          kind,
          rate: full.rate,
          gatehouseMs: full.cpuMsPerOp.gatehouse ?? Number.NaN,
          postgresMs: full.cpuMsPerOp.postgres ?? Number.NaN,
          walFlushes: (flushes1 - flushes0) / full.completed,
          paced: { p50: p.p50, p99: p.p99, rate: paced.rate },
        };
        results.push(round);
        progress(`round ${i + 1}, ${describe(round)}`);
      }
      await persist("unlogged");
      process.stdout.write(`\n${summary(results)}\n`);
    } finally {
      await pool.close();
      await gatehouse.stop();
      await seeded.ctx.store.close();
    }
  } finally {
    await opPool.close();
    await op.stop();
    await stopAll();
    await database.drop();
  }
  return 0;
}

function bounds(maxMs: number, maxCount: number) {
  return { maxMs, maxCount, signal: stopping.signal };
}

function expectComplete(result: LoadResult): void {
  if (result.errors > 0) throw new Error(`${result.errors} sign-ins failed: ${result.errorSamples[0]}`);
}

function describe(round: Round): string {
  return `${round.kind.padEnd(8)}: ${round.rate.toFixed(0)} sign-ins/s, CPU per sign-in Gatehouse ${round.gatehouseMs.toFixed(2)} ms, PostgreSQL ${round.postgresMs.toFixed(2)} ms, WAL flushes ${round.walFlushes.toFixed(2)}; paced at ${round.paced.rate.toFixed(0)}/s: callback p50 ${round.paced.p50.toFixed(2)} / p99 ${round.paced.p99.toFixed(2)} ms`;
}

function summary(results: Round[]): string {
  const median = (kind: Round["kind"], pick: (r: Round) => number) => {
    const sorted = results
      .filter((r) => r.kind === kind)
      .map(pick)
      .sort((a, b) => a - b);
    const middle = sorted.length / 2;
    // An even count has two middle values: their mean.
    return Number.isInteger(middle)
      ? ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2
      : (sorted[Math.floor(middle)] ?? Number.NaN);
  };
  const rows: Array<[string, (r: Round) => number, number]> = [
    ["sign-ins/s (16 concurrent)", (r) => r.rate, 0],
    ["Gatehouse CPU per sign-in (ms)", (r) => r.gatehouseMs, 2],
    ["PostgreSQL backend CPU per sign-in (ms)", (r) => r.postgresMs, 2],
    ["WAL flushes per sign-in (whole server)", (r) => r.walFlushes, 2],
    ["callback p50, paced (ms)", (r) => r.paced.p50, 2],
    ["callback p99, paced (ms)", (r) => r.paced.p99, 2],
  ];
  const lines = [`${"median of the rounds".padEnd(42)}${"unlogged".padStart(10)}${"logged".padStart(10)}`];
  for (const [label, pick, digits] of rows) {
    lines.push(
      `${label.padEnd(42)}${median("unlogged", pick).toFixed(digits).padStart(10)}${median("logged", pick).toFixed(digits).padStart(10)}`,
    );
  }
  return lines.join("\n");
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench:commits: ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
