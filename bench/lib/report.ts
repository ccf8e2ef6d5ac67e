import type { Dialect } from "../../src/store/database.js";
import type { LoadResult, Percentiles } from "./load.js";
import { percentiles } from "./load.js";
import type { CpuDelta } from "./proc.js";
import type { RuntimeDelta } from "./runtime.js";
import { totalOf } from "./statements.js";

/** One measured phase, as printed and as written to latest.json. */
export interface PhaseReport {
  completed: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  rate: number;
  targetRate?: number;
  skipped: number;
  latencyMs: Percentiles;
  /** CPU milliseconds per completed operation, per process group. */
  cpuMsPerOp: Record<string, number>;
  /** Of which in the kernel. */
  kernelMsPerOp: Record<string, number>;
  /** Cores kept busy by other work on the machine during the phase. */
  otherCores: number;
}

export function phaseReport(load: LoadResult, cpu: CpuDelta): PhaseReport {
  const perOp = (seconds: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(seconds).map(([name, value]) => [
        name,
        load.completed > 0 ? (value * 1000) / load.completed : Number.NaN,
      ]),
    );
  return {
    completed: load.completed,
    errors: load.errors,
    errorSamples: load.errorSamples,
    seconds: load.elapsedMs / 1000,
    rate: load.rate,
    ...(load.targetRate === undefined ? {} : { targetRate: load.targetRate }),
    skipped: load.skipped,
    latencyMs: percentiles(load.latencies),
    cpuMsPerOp: perOp(cpu.cpu),
    kernelMsPerOp: perOp(cpu.kernel),
    otherCores: cpu.otherCores,
  };
}

export interface DatabaseResult {
  dialect: Dialect;
  /** Measured right before this database's sign-in phases, under the same load from elsewhere. */
  floor: FloorReport;
  returning: PhaseReport;
  newUsers: PhaseReport;
  halfRate: PhaseReport;
  sessionCount: number;
  sessionInsertSeconds: number;
  sessionMax: PhaseReport;
  sessionPaced: PhaseReport;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** The highest RSS Gatehouse reached during the whole run (VmHWM). */
  rssPeakBytes: number;
  /** Rows in login_transactions once the sign-in phases are over (none expire during a run). */
  loginTransactions: number;
  /** SQL statements (each a round trip) per sign-in and per session check, by kind. */
  statementsPerOp: {
    returning: Record<string, number>;
    newUsers: Record<string, number>;
    check: Record<string, number>;
    pacedCheck: Record<string, number>;
  };
  /** PostgreSQL: WAL flushes of the whole server per sign-in (each waits for the disk). */
  walFlushesPerSignIn?: { returning: number; newUsers: number };
  /** Garbage collection and event-loop delay during the phases whose tails are judged. */
  runtime: {
    halfRate: RuntimeDelta;
    sessionMax: RuntimeDelta;
    sessionPaced: RuntimeDelta;
    /** The bench client's own event loop during the paced checks. */
    clientPaced: Pick<RuntimeDelta, "loopDelayP99Ms" | "loopDelayMaxMs">;
  };
  /** With --profile: the phases' windows in the profile, ms since Gatehouse was started. */
  profileWindows?: Record<string, [number, number]>;
  notes: string[];
}

/** The floor: the same sign-in by a bare openid-client script, no server, no database. */
export interface FloorReport {
  rate: number;
  completed: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  cpuMsPerSignIn: number;
  opCpuMsPerSignIn: number;
  otherCores: number;
}

export interface References {
  constant: PhaseReport;
  /** bench/session-cache-memory.ts: the session cache's heap after full collections. */
  sessionCache: { sessions: number; heapBytes: number };
}

export interface BenchResults {
  startedAt: string;
  mode: "quick" | "full";
  profiled: boolean;
  source: string;
  concurrency: number;
  machine: { cores: number; loadAverageAtStart: number[]; node: string };
  settings: Record<string, number>;
  references: References;
  databases: DatabaseResult[];
  targets: TargetResult[];
  notes: string[];
}

export interface TargetResult {
  target: string;
  /** None for a target that does not depend on the database. */
  dialect?: Dialect;
  value: string;
  met: boolean | null;
}

const MiB = 1024 * 1024;

export function evaluateTargets(references: References, databases: DatabaseResult[]): TargetResult[] {
  const out: TargetResult[] = [];
  const constantCpu = references.constant.cpuMsPerOp.server ?? Number.NaN;
  for (const d of databases) {
    const needed = 0.6;
    const returning = d.returning.rate / d.floor.rate;
    const fresh = d.newUsers.rate / d.floor.rate;
    out.push({
      target: `sign-ins >= ${needed} x floor`,
      dialect: d.dialect,
      value: `returning ${returning.toFixed(2)}x, new ${fresh.toFixed(2)}x (per CPU: ${cpuRatio(d).toFixed(2)}x)`,
      met: Math.min(returning, fresh) >= needed,
    });
    const cpu = Math.max(d.returning.cpuMsPerOp.gatehouse ?? 0, d.newUsers.cpuMsPerOp.gatehouse ?? 0);
    const cpuBound = 1.5 * d.floor.cpuMsPerSignIn;
    out.push({
      target: "Gatehouse CPU per sign-in <= 1.5 x the floor's",
      dialect: d.dialect,
      value: `returning ${fmt(d.returning.cpuMsPerOp.gatehouse)} ms, new ${fmt(d.newUsers.cpuMsPerOp.gatehouse)} ms (bound ${fmt(cpuBound)} ms)`,
      met: cpu <= cpuBound,
    });
    const checkCpu = d.sessionMax.cpuMsPerOp.gatehouse ?? Number.NaN;
    out.push({
      target: "session-check CPU <= 2 x constant route",
      dialect: d.dialect,
      value: `${(checkCpu / constantCpu).toFixed(2)}x (${us(checkCpu)} vs ${us(constantCpu)})`,
      met: checkCpu / constantCpu <= 2,
    });
    const paced = d.sessionPaced;
    const sustained = (paced.targetRate ?? 0) >= 5000 && paced.rate >= 0.97 * 5000;
    out.push({
      target: "session-check p99 <= 5 ms at 5,000/s",
      dialect: d.dialect,
      value: sustained
        ? `p99 ${fmt(paced.latencyMs.p99)} ms`
        : `5,000/s not reachable: p99 ${fmt(paced.latencyMs.p99)} ms at ${Math.round(paced.rate)}/s`,
      met: sustained && paced.latencyMs.p99 <= 5,
    });
    out.push({
      target: "callback p99 <= 10 ms at half the max rate",
      dialect: d.dialect,
      value: `p99 ${fmt(d.halfRate.latencyMs.p99)} ms at ${Math.round(d.halfRate.rate)}/s`,
      met: d.halfRate.latencyMs.p99 <= 10,
    });
  }
  // Judged on the cache's own heap: a server's RSS growth also holds the heap room V8 keeps
  // between collections, tens of MiB that move from one reading to the next (printed above).
  const cache = references.sessionCache;
  out.push({
    target: "session cache <= 64 MiB for 100,000 sessions",
    value: `${(cache.heapBytes / MiB).toFixed(1)} MiB of heap for ${cache.sessions.toLocaleString("en-US")} sessions`,
    met: cache.sessions >= 100_000 ? cache.heapBytes <= 64 * MiB : null,
  });
  return out;
}

/** Total CPU per sign-in of everything involved, the floor's over Gatehouse's path. */
export function cpuRatio(d: DatabaseResult): number {
  const path = ["gatehouse", "op", "client", "postgres"].reduce(
    (n, g) => n + (d.returning.cpuMsPerOp[g] ?? 0),
    0,
  );
  return (d.floor.cpuMsPerSignIn + d.floor.opCpuMsPerSignIn) / path;
}

function fmt(value: number | undefined, digits = 2): string {
  return value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);
}

function us(ms: number): string {
  return `${Math.round(ms * 1000)} us`;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("   ");
  const [head, ...body] = rows;
  const rule = widths.map((w) => "-".repeat(w)).join("   ");
  return [line(head!), rule, ...body.map((r) => (r.length === 1 ? r[0]! : line(r)))].join("\n");
}

const NAMES: Record<Dialect, string> = { sqlite: "SQLite", postgres: "PostgreSQL" };

export function formatReport(results: BenchResults): string {
  const dbs = results.databases;
  const head = ["", ...dbs.map((d) => NAMES[d.dialect])];
  const row = (label: string, value: (d: DatabaseResult) => string) => [label, ...dbs.map(value)];
  const lat = (p: PhaseReport) => `${fmt(p.latencyMs.p50)} / ${fmt(p.latencyMs.p99)}`;
  const cpu = (p: PhaseReport, group: string) => fmt(p.cpuMsPerOp[group]);
  const c = results.concurrency;
  const hasPg = dbs.some((d) => d.dialect === "postgres");

  const rows: string[][] = [
    head,
    row(`floor: openid-client sign-ins/s (${c} concurrent)`, (d) => d.floor.rate.toFixed(0)),
    row(
      "  floor CPU per sign-in: script / fast OP (ms)",
      (d) => `${fmt(d.floor.cpuMsPerSignIn)} / ${fmt(d.floor.opCpuMsPerSignIn)}`,
    ),
    row(`sign-ins/s, returning users (${c} concurrent)`, (d) => d.returning.rate.toFixed(0)),
    row(`sign-ins/s, new users (${c} concurrent)`, (d) => d.newUsers.rate.toFixed(0)),
    row(
      "  Gatehouse CPU per sign-in, returning / new (ms)",
      (d) => `${cpu(d.returning, "gatehouse")} / ${cpu(d.newUsers, "gatehouse")}`,
    ),
    row(
      "    of which in the kernel, returning / new (ms)",
      (d) => `${fmt(d.returning.kernelMsPerOp.gatehouse)} / ${fmt(d.newUsers.kernelMsPerOp.gatehouse)}`,
    ),
    ...(hasPg
      ? [
          row(
            "  PostgreSQL backend CPU per sign-in, ret. / new (ms)",
            (d) => `${cpu(d.returning, "postgres")} / ${cpu(d.newUsers, "postgres")}`,
          ),
        ]
      : []),
    row("  fast OP CPU per sign-in, returning (ms)", (d) => cpu(d.returning, "op")),
    row("  bench client CPU per sign-in, returning (ms)", (d) => cpu(d.returning, "client")),
    row("  sign-ins per CPU-second vs the floor's, returning", (d) => `${cpuRatio(d).toFixed(2)}x`),
    row(
      "  SQL statements per sign-in, returning / new",
      (d) =>
        `${fmt(totalOf(d.statementsPerOp.returning), 1)} / ${fmt(totalOf(d.statementsPerOp.newUsers), 1)}`,
    ),
    ...(hasPg
      ? [
          row("  PostgreSQL WAL flushes per sign-in, returning / new", (d) =>
            d.walFlushesPerSignIn
              ? `${fmt(d.walFlushesPerSignIn.returning)} / ${fmt(d.walFlushesPerSignIn.newUsers)}`
              : "-",
          ),
        ]
      : []),
    row("callback p50 / p99 at full load, returning (ms)", (d) => lat(d.returning)),
    row("callback p50 / p99 at full load, new (ms)", (d) => lat(d.newUsers)),
    row("callback p50 / p99 at half the max rate, returning (ms)", (d) => lat(d.halfRate)),
    row(
      "  half rate: target / achieved sign-ins/s",
      (d) => `${(d.halfRate.targetRate ?? 0).toFixed(0)} / ${d.halfRate.rate.toFixed(0)}`,
    ),
    row("  event loop blocked p99 / max, half rate (ms)", (d) => loopDelay(d.runtime.halfRate)),
    row("  GC pauses >= 10 ms / all, half rate", (d) => gcPauses(d.runtime.halfRate)),
    row("  IdP's answers within p50 / p99 (Gatehouse's buckets), half rate (ms)", (d) => {
      const { p50Ms, p99Ms } = d.runtime.halfRate.idp;
      return p50Ms === undefined || p99Ms === undefined ? "-" : `<= ${p50Ms} / <= ${p99Ms}`;
    }),
    row(
      "live sessions (inserted in s)",
      (d) => `${d.sessionCount.toLocaleString("en-US")} (${d.sessionInsertSeconds.toFixed(1)} s)`,
    ),
    row(`session checks/s, GET /api/v1/me (${c} concurrent)`, (d) => d.sessionMax.rate.toFixed(0)),
    row("  p50 / p99 at full load (ms)", (d) => lat(d.sessionMax)),
    row("  Gatehouse CPU per check (us)", (d) => usCell(d.sessionMax.cpuMsPerOp.gatehouse)),
    row("    of which in the kernel (us)", (d) => usCell(d.sessionMax.kernelMsPerOp.gatehouse)),
    row("  SQL statements per check", (d) => fmt(totalOf(d.statementsPerOp.check), 2)),
    ...(hasPg
      ? [row("  PostgreSQL backend CPU per check (us)", (d) => usCell(d.sessionMax.cpuMsPerOp.postgres))]
      : []),
    row(
      "  paced: target / achieved checks/s",
      (d) => `${(d.sessionPaced.targetRate ?? 0).toFixed(0)} / ${d.sessionPaced.rate.toFixed(0)}`,
    ),
    row("  p50 / p99 paced (ms)", (d) => lat(d.sessionPaced)),
    row("  event loop blocked p99 / max, full load / paced (ms)", (d) =>
      [d.runtime.sessionMax, d.runtime.sessionPaced].map(loopDelay).join(" · "),
    ),
    row("  bench client's event loop blocked p99 / max, paced (ms)", (d) => loopDelay(d.runtime.clientPaced)),
    row("  SQL statements per paced check", (d) => fmt(totalOf(d.statementsPerOp.pacedCheck), 3)),
    row("  GC pauses >= 10 ms / all, paced", (d) => gcPauses(d.runtime.sessionPaced)),
    row("  GC time, paced: major / minor (ms)", (d) => gcTime(d.runtime.sessionPaced)),
    row(
      "Gatehouse RSS before / after sessions (MiB)",
      (d) => `${(d.rssBeforeBytes / MiB).toFixed(1)} / ${(d.rssAfterBytes / MiB).toFixed(1)}`,
    ),
    row("  RSS growth (MiB)", (d) => ((d.rssAfterBytes - d.rssBeforeBytes) / MiB).toFixed(1)),
    row("  peak RSS over the whole run (MiB)", (d) => (d.rssPeakBytes / MiB).toFixed(1)),
    row(
      "other load on the machine (cores): floor / sign-ins / checks",
      (d) =>
        `${d.floor.otherCores.toFixed(2)} / ${d.returning.otherCores.toFixed(2)} / ${d.sessionMax.otherCores.toFixed(2)}`,
    ),
    row("login transactions in the table after the sign-ins", (d) =>
      d.loginTransactions.toLocaleString("en-US"),
    ),
    row("errors (all phases)", (d) => String(errorsOf(d))),
  ];

  const k = results.references.constant;
  const refs = table([
    ["reference", "value"],
    [`constant Fastify route: requests/s (${c} concurrent)`, k.rate.toFixed(0)],
    ["  server CPU per request (us)", usCell(k.cpuMsPerOp.server)],
    ["    of which in the kernel (us)", usCell(k.kernelMsPerOp.server)],
    ["  p50 / p99 (ms)", `${fmt(k.latencyMs.p50)} / ${fmt(k.latencyMs.p99)}`],
    [
      `session cache heap for ${results.references.sessionCache.sessions.toLocaleString("en-US")} sessions (MiB)`,
      fmt(results.references.sessionCache.heapBytes / MiB, 1),
    ],
  ]);

  const targetRows: string[][] = [["target", "database", "value", "result"]];
  for (const t of results.targets) {
    targetRows.push([
      t.target,
      t.dialect ? NAMES[t.dialect] : "any",
      t.value,
      t.met === null ? "not judged" : t.met ? "met" : "NOT MET",
    ]);
  }

  const out = [
    `Gatehouse benchmark (${results.mode}${results.profiled ? ", PROFILED: numbers include profiler overhead" : ""}) - ${results.startedAt}`,
    `node ${results.machine.node}, ${results.machine.cores} cores, load average at start ${results.machine.loadAverageAtStart.join(" ")}, Gatehouse from ${results.source}`,
    "",
    table(rows),
    "",
    refs,
    "",
    table(targetRows),
  ];
  for (const d of dbs) {
    out.push("", `SQL statements per operation, ${NAMES[d.dialect]}:`);
    for (const [label, perOp] of [
      ["returning sign-in", d.statementsPerOp.returning],
      ["new-user sign-in", d.statementsPerOp.newUsers],
      ["session check", d.statementsPerOp.check],
      ["session check, paced", d.statementsPerOp.pacedCheck],
    ] as const) {
      const kinds = Object.entries(perOp).map(([kind, n]) => `${kind} ${n}`);
      out.push(`  ${label}: ${kinds.join(", ") || "none"}`);
    }
  }
  const notes = [...results.notes, ...dbs.flatMap((d) => d.notes.map((n) => `${NAMES[d.dialect]}: ${n}`))];
  if (notes.length > 0) out.push("", "Notes:", ...notes.map((n) => `- ${n}`));
  return out.join("\n");
}

function loopDelay(r: Pick<RuntimeDelta, "loopDelayP99Ms" | "loopDelayMaxMs">): string {
  return `${fmt(r.loopDelayP99Ms, 1)} / ${fmt(r.loopDelayMaxMs, 1)}`;
}

function gcPauses(r: RuntimeDelta): string {
  const all = Object.values(r.gc);
  return `${all.reduce((n, g) => n + g.over10ms, 0)} / ${all.reduce((n, g) => n + g.count, 0)}`;
}

function gcTime(r: RuntimeDelta): string {
  return `${fmt(r.gc.major?.ms ?? 0, 0)} / ${fmt(r.gc.minor?.ms ?? 0, 0)}`;
}

function usCell(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? "-" : String(Math.round(ms * 1000));
}

function errorsOf(d: DatabaseResult): number {
  return [d.returning, d.newUsers, d.halfRate, d.sessionMax, d.sessionPaced].reduce(
    (n, p) => n + p.errors,
    0,
  );
}
