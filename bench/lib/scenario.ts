import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Pool } from "undici";
import { randomToken } from "../../src/crypto/tokens.js";
import { type StartedChild, startChild } from "./children.js";
import { keepAlivePool } from "./client.js";
import { RESULTS, ROOT } from "./gatehouse.js";
import { type Bounds, closedLoop, type Operation } from "./load.js";
import { cpuDelta, snapshotCpu } from "./proc.js";
import { type FloorReport, type PhaseReport, phaseReport } from "./report.js";
import { constantRequest } from "./sign-in.js";

/** How long and how much each phase runs; see FULL and QUICK in run.ts. */
export interface Settings {
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

export function checkStopping(signal: AbortSignal): void {
  if (signal.aborted) throw new Error("interrupted");
}

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export { freePort } from "../../test/support/gatehouse.js";

export function bounds(shared: Shared, maxMs: number, maxCount: number): Bounds {
  return { maxMs, maxCount, signal: shared.signal };
}

export type PidGroups = () => Promise<Record<string, number[]>>;

/** Runs a load phase between two CPU snapshots of every process involved. */
export async function measureCpu(
  groups: PidGroups,
  run: () => ReturnType<typeof closedLoop>,
): Promise<PhaseReport> {
  const before = await groups();
  const first = snapshotCpu(before);
  const load = await run();
  const after = await groups();
  for (const [name, pids] of Object.entries(before))
    after[name] = [...new Set([...pids, ...(after[name] ?? [])])];
  const report = phaseReport(load, cpuDelta(first, snapshotCpu(after)));
  if (load.errors > 0) progress(`  ${load.errors} errors, e.g. ${load.errorSamples.join(" | ")}`);
  return report;
}

/** `measureCpu`, then stops the run if it was interrupted meanwhile. */
export async function measured(
  shared: Shared,
  groups: PidGroups,
  run: () => ReturnType<typeof closedLoop>,
): Promise<PhaseReport> {
  const report = await measureCpu(groups, run);
  checkStopping(shared.signal);
  return report;
}

/** The fast OpenID Provider (bench/fast-op.ts) in its own process, and a pool to drive its authorize. */
export async function startFastOp(): Promise<{ op: StartedChild; opPool: Pool; issuer: string }> {
  const op = await startChild("fast-op", {
    args: ["--import", "tsx", path.join(ROOT, "bench/fast-op.ts")],
    waitForJsonLine: true,
    logFile: path.join(RESULTS, "fast-op.log"),
  });
  const issuer = String(op.ready.issuer);
  return { op, opPool: keepAlivePool(issuer), issuer };
}

export async function registerClient(
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

/** What every scenario of one run shares. */
export interface Shared {
  settings: Settings;
  /** How to start Gatehouse: `node <command> serve`. */
  command: string[];
  op: StartedChild;
  opPool: Pool;
  issuer: string;
  /** Set with --profile: Gatehouse runs under --cpu-prof and writes its profiles here. */
  profileDir: string | undefined;
  /** Aborted on Ctrl+C: phases stop early and the run winds down. */
  signal: AbortSignal;
  /** Profile summaries, printed after the table. */
  profileTexts: string[];
}

/** The floor, in its own process against the same fast OP; its own CPU and the OP's are read. */
export async function runFloor(shared: Shared): Promise<FloorReport> {
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

export async function runConstant(shared: Shared): Promise<PhaseReport> {
  const { settings } = shared;
  const server = await startChild("constant-server", {
    args: ["--import", "tsx", path.join(ROOT, "bench/constant-server.ts")],
    waitForJsonLine: true,
  });
  const pool = keepAlivePool(`http://127.0.0.1:${String(server.ready.port)}`);
  try {
    const op: Operation = () => constantRequest(pool);
    await closedLoop(settings.concurrency, bounds(shared, 1000, settings.maxCount), op);
    return await measured(
      shared,
      async () => ({ server: [server.pid], client: [process.pid] }),
      () => closedLoop(settings.concurrency, bounds(shared, settings.constantMs, settings.maxCount), op),
    );
  } finally {
    await pool.close();
    await server.stop();
  }
}
