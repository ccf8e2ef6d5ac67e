import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startChild, stopAll } from "./lib/children.js";
import { keepAlivePool } from "./lib/client.js";
import {
  buildGatehouse,
  gatehouseEnv,
  insertSessions,
  RESULTS,
  ROOT,
  seed,
  startGatehouse,
} from "./lib/gatehouse.js";
import { closedLoop, type Operation, openLoop, percentiles } from "./lib/load.js";
import { processCpuTimes } from "./lib/proc.js";
import { freePort, progress, registerClient, startFastOp } from "./lib/scenario.js";
import { constantRequest, sessionCheck } from "./lib/sign-in.js";

const USAGE = `Usage: npm run bench:check -- [options]

The session check's CPU against the constant Fastify route, measured in alternating rounds so
that both see the same machine: a shared machine's speed drifts between minutes, and a ratio
from two phases minutes apart drifts with it. Gatehouse runs compiled, on SQLite, with every
session checked once beforehand (so cached); GET /api/v1/me and GET /constant each run
closed-loop at 32 in flight.

  --sessions <n>      live sessions (default 100,000, as in npm run bench)
  --rounds <n>        alternating rounds (default 5)
  --seconds <s>       length of each phase (default 4)
  --log-level <lvl>   Gatehouse's LOG_LEVEL (default info, what a user runs)
  --paced <rate>      also, in each round, both paced at <rate>/s (open loop) for the same
                      length: latency p50 / p99 / max of each, the tail the server adds`;

interface Round {
  constant: { user: number; system: number };
  check: { user: number; system: number };
}

async function pacedLatency(rate: number, ms: number, op: Operation): Promise<string> {
  const result = await openLoop(
    rate,
    256,
    { maxMs: ms, maxCount: Math.ceil((rate * ms) / 1000), signal: stopping.signal },
    op,
  );
  if (result.errors > 0) throw new Error(`${result.errors} operations failed: ${result.errorSamples[0]}`);
  const p = percentiles(result.latencies);
  return `p50 ${p.p50.toFixed(2)} / p99 ${p.p99.toFixed(2)} / max ${p.max.toFixed(1)} ms at ${result.rate.toFixed(0)}/s${result.skipped > 0 ? ` (${result.skipped} skipped)` : ""}`;
}

async function cpuPerOperation(pid: number, ms: number, op: Operation) {
  const before = processCpuTimes(pid);
  const result = await closedLoop(32, { maxMs: ms, maxCount: 10_000_000, signal: stopping.signal }, op);
  const after = processCpuTimes(pid);
  if (!before || !after) throw new Error(`process ${pid} is gone`);
  if (result.errors > 0) throw new Error(`${result.errors} operations failed: ${result.errorSamples[0]}`);
  return {
    user: ((after.user - before.user) * 1e6) / result.completed,
    system: ((after.system - before.system) * 1e6) / result.completed,
  };
}

const stopping = new AbortController();
process.on("SIGINT", () => stopping.abort());

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sessions: { type: "string", default: "100000" },
      rounds: { type: "string", default: "5" },
      seconds: { type: "string", default: "4" },
      "log-level": { type: "string", default: "info" },
      paced: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sessions = Number(values.sessions);
  const rounds = Number(values.rounds);
  const ms = Number(values.seconds) * 1000;
  const pacedRate = values.paced === undefined ? undefined : Number(values.paced);
  if (pacedRate !== undefined && !(pacedRate >= 1))
    throw new Error("--paced must be a rate of at least 1 per second");
  if (!(sessions >= 1 && rounds >= 1 && ms >= 500)) {
    throw new Error("--sessions and --rounds must be at least 1, --seconds at least 0.5");
  }

  progress("compiling src/ into bench/results/build (when changed)");
  const build = buildGatehouse();
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-bench-check-"));
  const port = await freePort();
  const env = {
    ...gatehouseEnv({
      databaseUrl: `sqlite:${path.join(dir, "gatehouse.db")}`,
      secretKey: Buffer.alloc(32, 7).toString("base64"),
      port,
    }),
    LOG_LEVEL: values["log-level"],
  };
  const { op, opPool, issuer } = await startFastOp();
  try {
    const client = { clientId: "bench-check", clientSecret: "bench-check-secret" };
    await registerClient(opPool, { ...client, redirectUris: [`http://127.0.0.1:${port}/sso/callback`] });
    const seeded = await seed(env, { issuer, ...client });
    const tokens = await insertSessions(seeded, [seeded.adminUserId], sessions, 1);
    await seeded.ctx.store.close();
    const gatehouse = await startGatehouse({
      command: [build.main],
      env,
      logFile: path.join(RESULTS, "check-cost-gatehouse.log"),
    });
    const constant = await startChild("constant-server", {
      args: ["--import", "tsx", path.join(ROOT, "bench/constant-server.ts")],
      waitForJsonLine: true,
    });
    const constantPool = keepAlivePool(`http://127.0.0.1:${String(constant.ready.port)}`);
    const gatehousePool = keepAlivePool(gatehouse.url);
    const check: Operation = () => sessionCheck(gatehousePool, tokens[randomInt(tokens.length)] as string);
    const constantOp: Operation = () => constantRequest(constantPool);
    try {
      progress(`checking each of ${sessions.toLocaleString("en-US")} sessions once, then 2 s of each`);
      await closedLoop(32, { maxMs: 120_000, maxCount: tokens.length, signal: stopping.signal }, (i) =>
        sessionCheck(gatehousePool, tokens[i % tokens.length] as string),
      );
      await cpuPerOperation(gatehouse.pid, 2000, check);
      await cpuPerOperation(constant.pid, 2000, constantOp);
      const results: Round[] = [];
      for (let i = 0; i < rounds && !stopping.signal.aborted; i++) {
        const round = {
          constant: await cpuPerOperation(constant.pid, ms, constantOp),
          check: await cpuPerOperation(gatehouse.pid, ms, check),
        };
        results.push(round);
        progress(`round ${i + 1}: ${describe(round)}`);
        if (pacedRate !== undefined) {
          progress(`  paced constant: ${await pacedLatency(pacedRate, ms, constantOp)}`);
          progress(`  paced check:    ${await pacedLatency(pacedRate, ms, check)}`);
        }
      }
      const ratios = results.map(ratio).sort((a, b) => a - b);
      const median = ratios[Math.floor(ratios.length / 2)] ?? Number.NaN;
      process.stdout.write(
        `\nsession-check CPU / constant route CPU, LOG_LEVEL=${values["log-level"]}: median ${median.toFixed(2)}x over ${ratios.length} rounds (${ratios.map((r) => r.toFixed(2)).join(", ")}); target <= 2x ${median <= 2 ? "met" : "NOT MET"}\n`,
      );
    } finally {
      await constantPool.close();
      await gatehousePool.close();
    }
  } finally {
    await opPool.close();
    await op.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

function total(cpu: { user: number; system: number }): number {
  return cpu.user + cpu.system;
}

function ratio(round: Round): number {
  return total(round.check) / total(round.constant);
}

function describe(round: Round): string {
  const part = (cpu: { user: number; system: number }) =>
    `${total(cpu).toFixed(1)} us (user ${cpu.user.toFixed(1)}, system ${cpu.system.toFixed(1)})`;
  return `constant ${part(round.constant)}, session check ${part(round.check)}: ${ratio(round).toFixed(2)}x`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench:check: ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
