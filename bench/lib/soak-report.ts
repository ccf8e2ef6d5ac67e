import { hashToken } from "../../src/crypto/tokens.js";
import { percentiles } from "./load.js";
import type { Balancer } from "./soak-balancer.js";
import type { DatabaseFacts } from "./soak-checks.js";
import type { Answer, Recorder, Step } from "./soak-clients.js";

/** When each part of the run began and ended, ms on the recorder's clock. */
export interface Marks {
  loadStart: number;
  baselineStart: number;
  idpSlowStart: number;
  idpFailStart: number;
  idpEnd: number;
  dbRestartStart: number;
  dbRestartEnd: number;
  killAt: number;
  loadEnd: number;
  sweepStart: number;
  shutdownStart: number;
  sigtermAt: number;
  exitAt: number;
}

export interface Limits {
  /** Failures are still the fault's for this long after it ends. */
  graceMs: number;
  /** Throughput must be back to `recoveryShare` of the baseline this soon after a fault ends. */
  recoveryLimitMs: number;
  recoveryShare: number;
  shutdownLimitMs: number;
}

export interface InstanceFacts {
  name: string;
  pid: number;
  /** Still running right after the database restart. */
  aliveAfterRestart: boolean;
  /** When the soak sent SIGKILL (fault c). */
  killedAt?: number;
  /** When the soak sent SIGTERM (the end). */
  stoppedAt?: number;
  exitCode?: number | null;
  exitedAt?: number;
  /** `code 1`, `SIGKILL`, ... */
  exit?: string;
  /** What the process wrote on stderr about an uncaught error, if anything. */
  crash?: string;
}

export interface SoakRun {
  recorder: Recorder;
  marks: Marks;
  limits: Limits;
  instances: InstanceFacts[];
  killedName: string;
  balancer: Pick<Balancer, "counters" | "unroutedAt">;
  sweep: { total: number; answers: Answer[] };
  /** Callbacks sent well before SIGTERM and still unanswered when it was sent. */
  inFlightAtSigterm: Answer[];
  database: DatabaseFacts;
  /** Codes Gatehouse defines (src/errors.ts). */
  knownCodes: ReadonlySet<string>;
  /** Lines of the instances' logs, to show what lay behind an INTERNAL answer. */
  logLines: string[];
  /** Cores busy with work outside the soak, sampled once a second. */
  otherCores: Array<{ at: number; cores: number }>;
  notes: string[];
}

type Kind = "idp" | "unavailable" | "connection" | "other";

const SUCCESS: Record<Step, number> = { start: 302, authorize: 302, callback: 303, me: 200 };
const IDP_CODES = new Set(["SSO_OUTBOUND_FAILED", "SSO_TOKEN_REQUEST_FAILED"]);

/** undefined for a success; otherwise what kind of failure the answer is. */
function kindOf(answer: Answer): Kind | undefined {
  if (answer.status === SUCCESS[answer.step] && !answer.error) return undefined;
  if (answer.status === 0) return "connection";
  if (answer.step === "callback" && answer.code && IDP_CODES.has(answer.code) && answer.status < 500)
    return "idp";
  if (answer.status === 503 && answer.code === "SERVICE_UNAVAILABLE") return "unavailable";
  return "other";
}

type Window = "idp" | "restart" | "kill" | "shutdown" | "outside";

function windowOf(run: SoakRun, at: number): Window {
  const { marks: m, limits } = run;
  if (at >= m.idpSlowStart && at <= m.idpEnd + limits.graceMs) return "idp";
  if (at >= m.dbRestartStart && at <= m.dbRestartEnd + limits.graceMs) return "restart";
  if (at >= m.killAt && at <= m.killAt + limits.graceMs) return "kill";
  if (at >= m.sigtermAt) return "shutdown";
  return "outside";
}

const WINDOW_NAMES: Record<Window, string> = {
  idp: "(a) IdP slow/failing",
  restart: "(b) PostgreSQL restart",
  kill: "(c) instance killed",
  shutdown: "SIGTERM",
  outside: "no fault",
};

/** What a failure must look like in each window to be the fault's doing. */
function explained(run: SoakRun, answer: Answer, kind: Kind): boolean {
  switch (windowOf(run, answer.at)) {
    case "idp":
      return kind === "idp" && answer.traceId !== undefined;
    case "restart":
      return kind === "unavailable" && answer.retryAfter !== undefined;
    case "kill":
    case "shutdown":
      return kind === "connection";
    case "outside":
      return false;
  }
}

function describe(run: SoakRun, answer: Answer): string {
  const parts = [
    `${(answer.at / 1000).toFixed(1)} s`,
    answer.step,
    answer.status === 0 ? "no answer" : `HTTP ${answer.status}`,
  ];
  if (answer.code) parts.push(answer.code);
  if (answer.retryAfter !== undefined) parts.push(`retry-after ${answer.retryAfter}`);
  if (answer.traceId) parts.push(`ref ${answer.traceId}`);
  if (answer.error) parts.push(answer.error);
  parts.push(`[${WINDOW_NAMES[windowOf(run, answer.at)]}]`);
  return parts.join(" ");
}

function table(rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** How many of the sorted `times` fall in [from, to). */
function countBetween(times: readonly number[], from: number, to: number): number {
  const lowerBound = (x: number) => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return lowerBound(to) - lowerBound(from);
}

interface Assertion {
  name: string;
  ok: boolean;
  detail: string[];
}

export interface SoakVerdict {
  text: string;
  failed: number;
  summary: Record<string, unknown>;
}

export function evaluateSoak(run: SoakRun): SoakVerdict {
  const { recorder, marks: m, limits } = run;
  const out: string[] = [];
  const assertions: Assertion[] = [];
  const assert = (name: string, ok: boolean, detail: string[]) => assertions.push({ name, ok, detail });
  const failures = recorder.answers
    .map((answer) => ({ answer, kind: kindOf(answer) }))
    .filter((f): f is { answer: Answer; kind: Kind } => f.kind !== undefined);

  // The timeline: successes per second and what failed.
  const okSignIns = recorder.signIns
    .filter((s) => s.ok)
    .map((s) => s.at)
    .sort((a, b) => a - b);
  const okChecks = recorder.answers
    .filter((a) => a.step === "me" && kindOf(a) === undefined)
    .map((a) => a.at)
    .sort((a, b) => a - b);
  const phaseMarks: Array<[number, string]> = [
    [m.loadStart, "warm-up"],
    [m.baselineStart, "baseline"],
    [m.idpSlowStart, "(a) IdP token endpoint slow"],
    [m.idpFailStart, "(a) IdP token endpoint HTTP 500"],
    [m.idpEnd, "after (a)"],
    [m.dbRestartStart, "(b) PostgreSQL restart"],
    [m.dbRestartEnd, "after (b)"],
    [m.killAt, `(c) ${run.killedName} killed`],
  ];
  const rows: string[][] = [["t", "sign-ins/s", "checks/s", "failed", "no answer", "", "phase"]];
  const baselineSeconds = Math.max(1, (m.idpSlowStart - m.baselineStart) / 1000);
  const baseline = {
    signIns: countBetween(okSignIns, m.baselineStart, m.idpSlowStart) / baselineSeconds,
    checks: countBetween(okChecks, m.baselineStart, m.idpSlowStart) / baselineSeconds,
  };
  const failureTimes = failures.map((f) => f.answer.at).sort((a, b) => a - b);
  const noAnswerTimes = failures
    .filter((f) => f.kind === "connection")
    .map((f) => f.answer.at)
    .sort((a, b) => a - b);
  let lastLabel = "";
  for (let t = m.loadStart; t + 500 < m.loadEnd; t += 1000) {
    const label = phaseMarks.filter(([at]) => at <= t + 500).at(-1)?.[1] ?? "";
    const signIns = countBetween(okSignIns, t, t + 1000);
    const bar = "#".repeat(Math.min(40, Math.round((signIns / Math.max(1, baseline.signIns)) * 20)));
    rows.push([
      `${((t - m.loadStart) / 1000).toFixed(0)}s`,
      String(signIns),
      String(countBetween(okChecks, t, t + 1000)),
      String(countBetween(failureTimes, t, t + 1000)),
      String(countBetween(noAnswerTimes, t, t + 1000)),
      bar,
      label === lastLabel ? "" : label,
    ]);
    lastLabel = label;
  }
  out.push("Timeline (1 s buckets; # = 5 % of the baseline sign-in rate)");
  out.push(table(rows, new Set([0, 1, 2, 3, 4])));
  out.push(
    "(each client checks sessions after its sign-in: while callbacks wait on a slow IdP, checks wait with them)",
  );
  out.push("");

  // Latency per step, in the baseline and over the whole load.
  const latencyRows = [["step", "baseline p50", "p90", "p99", "whole load p50", "p99", "max"]];
  const ms = (value: number) => (Number.isNaN(value) ? "-" : `${value.toFixed(1)} ms`);
  for (const step of ["start", "authorize", "callback", "me"] as const) {
    const ofStep = recorder.answers.filter((a) => a.step === step && a.status > 0);
    const inBaseline = percentiles(
      ofStep.filter((a) => a.sentAt >= m.baselineStart && a.at < m.idpSlowStart).map((a) => a.at - a.sentAt),
    );
    const whole = percentiles(
      ofStep.filter((a) => a.sentAt >= m.loadStart && a.at < m.loadEnd).map((a) => a.at - a.sentAt),
    );
    latencyRows.push([
      step,
      ms(inBaseline.p50),
      ms(inBaseline.p90),
      ms(inBaseline.p99),
      ms(whole.p50),
      ms(whole.p99),
      ms(whole.max),
    ]);
  }
  out.push("Latency of answered requests (authorize is the OP's)");
  out.push(table(latencyRows, new Set([1, 2, 3, 4, 5, 6])));
  out.push("");

  // Recovery after each fault.
  const recovery = (from: number, until: number): number | undefined => {
    for (let t = from; t + 1000 <= until; t += 100) {
      const signIns = countBetween(okSignIns, t, t + 1000);
      const checks = countBetween(okChecks, t, t + 1000);
      if (
        signIns >= limits.recoveryShare * baseline.signIns &&
        checks >= limits.recoveryShare * baseline.checks
      )
        return t - from;
    }
    return undefined;
  };
  const faults: Array<[string, number, number, number]> = [
    ["(a) IdP token endpoint back to normal", m.idpSlowStart, m.idpEnd, m.dbRestartStart],
    ["(b) PostgreSQL accepting connections again", m.dbRestartStart, m.dbRestartEnd, m.killAt],
    [`(c) ${run.killedName} killed, one instance left`, m.killAt, m.killAt, m.loadEnd],
  ];
  const rates = (from: number, to: number) => {
    const seconds = (to - from) / 1000;
    return `${(countBetween(okSignIns, from, to) / seconds).toFixed(0)} sign-ins/s, ${(countBetween(okChecks, from, to) / seconds).toFixed(0)} checks/s`;
  };
  const recoveryRows: string[][] = [
    ["fault ended", "at", "back to 80 % after", "5 s before the fault", "5 s after its end"],
  ];
  const recoveries: Record<string, number | null> = {};
  for (const [name, start, end, until] of faults) {
    const r = recovery(end, until);
    recoveries[name] = r ?? null;
    recoveryRows.push([
      name,
      `${((end - m.loadStart) / 1000).toFixed(1)} s`,
      r === undefined ? "not within the phase" : `${(r / 1000).toFixed(1)} s`,
      rates(start - 5000, start),
      rates(end, Math.min(until, end + 5000)),
    ]);
  }
  out.push(
    `Baseline (${baselineSeconds.toFixed(0)} s, two instances): ${baseline.signIns.toFixed(0)} sign-ins/s, ${baseline.checks.toFixed(0)} checks/s`,
  );
  out.push(table(recoveryRows));
  out.push(
    `(recovered: the first 1 s window after the fault's end with both rates at ≥ ${limits.recoveryShare * 100} % of the baseline; measured in 0.1 s steps)`,
  );
  out.push("");

  // Every failure, grouped.
  const groups = new Map<string, number>();
  for (const { answer, kind } of failures) {
    const key = [
      WINDOW_NAMES[windowOf(run, answer.at)],
      answer.step,
      answer.status === 0 ? "no answer" : String(answer.status),
      answer.code ?? (answer.status === 0 ? (answer.error?.split(":")[0] ?? "") : "-"),
      answer.status >= 500 ? (answer.retryAfter !== undefined ? "yes" : "no") : "",
      answer.status > 0 && answer.code ? (answer.traceId ? "yes" : "no") : "",
      explained(run, answer, kind) ? "expected" : "UNEXPECTED",
    ].join("\u0000");
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const failureRows = [["window", "step", "status", "code", "retry-after", "reference", "", "count"]];
  for (const [key, count] of [...groups].sort()) failureRows.push([...key.split("\u0000"), String(count)]);
  out.push(`Answers that were not a success (${failures.length} of ${recorder.answers.length})`);
  out.push(failures.length > 0 ? table(failureRows, new Set([7])) : "none");
  const noAnswer = new Map<Window, number>();
  for (const f of failures) {
    if (f.kind === "connection")
      noAnswer.set(windowOf(run, f.answer.at), (noAnswer.get(windowOf(run, f.answer.at)) ?? 0) + 1);
  }
  out.push(
    `Connection errors through the balancer (no HTTP answer): ${noAnswer.size === 0 ? "none" : [...noAnswer].map(([w, n]) => `${n} ${WINDOW_NAMES[w]}`).join(", ")}; ` +
      `client connections the balancer could not place: ${run.balancer.unroutedAt.length}`,
  );
  out.push("");

  out.push("Instances");
  out.push(
    run.instances
      .map((i) => {
        const when = i.exitedAt === undefined ? "" : ` at ${(i.exitedAt / 1000).toFixed(1)} s`;
        const how =
          i.exitedAt === undefined
            ? "running until the end"
            : !diedUnasked(i)
              ? `${i.killedAt !== undefined ? "killed with SIGKILL" : "stopped with SIGTERM"} by the soak, exited with ${i.exit ?? "?"}${when}`
              : `DIED UNASKED: ${i.exit}${when}${i.crash ? ` — ${i.crash}` : ""}`;
        return `${i.name}  pid ${i.pid}  ${how}`;
      })
      .join("\n"),
  );
  out.push("");

  // 0. Nobody dies unasked.
  const unasked = run.instances.filter(diedUnasked);
  assert(
    "no instance exits unless the soak kills or stops it",
    unasked.length === 0,
    unasked.length === 0
      ? ["none did"]
      : unasked.map(
          (i) =>
            `${i.name} exited (${i.exit}) at ${((i.exitedAt ?? 0) / 1000).toFixed(1)} s [${WINDOW_NAMES[windowOf(run, i.exitedAt ?? 0)]}]${i.crash ? `: ${i.crash}` : ""}`,
        ),
  );

  // 1. 5xx answers.
  const fiveHundreds = recorder.answers.filter((a) => a.status >= 500);
  const unclear = fiveHundreds.filter(
    (a) =>
      !a.code ||
      !run.knownCodes.has(a.code) ||
      a.code === "INTERNAL" ||
      (a.status === 503 && (a.code !== "SERVICE_UNAVAILABLE" || a.retryAfter === undefined)),
  );
  const byCode = new Map<string, number>();
  for (const a of fiveHundreds) {
    const key = `${a.status} ${a.code ?? "(no code)"}${a.retryAfter !== undefined ? " with retry-after" : " without retry-after"}`;
    byCode.set(key, (byCode.get(key) ?? 0) + 1);
  }
  assert(
    "every 5xx is a Gatehouse page/JSON with a known code (503 SERVICE_UNAVAILABLE + retry-after)",
    unclear.length === 0,
    [
      fiveHundreds.length === 0
        ? "no 5xx answers"
        : [...byCode].map(([key, n]) => `${n} × ${key}`).join("; "),
      ...sample(unclear, (a) => describe(run, a)),
    ],
  );

  // 2. INTERNAL.
  const internal = recorder.answers.filter((a) => a.code === "INTERNAL");
  assert(
    "INTERNAL never answered",
    internal.length === 0,
    internal.length === 0
      ? ["none"]
      : [
          `${internal.length} answers`,
          ...sample(internal, (a) => {
            const line = a.traceId ? run.logLines.find((l) => l.includes(a.traceId ?? "")) : undefined;
            return `${describe(run, a)}${line ? `\n        log: ${logSummary(line)}` : ""}`;
          }),
        ],
  );

  // 3. (a) the IdP's token endpoint.
  const inIdp = failures.filter((f) => windowOf(run, f.answer.at) === "idp");
  const idpBad = inIdp.filter((f) => !explained(run, f.answer, f.kind));
  const idpCodes = new Map<string, number>();
  for (const f of inIdp)
    if (f.kind === "idp") idpCodes.set(f.answer.code!, (idpCodes.get(f.answer.code!) ?? 0) + 1);
  assert(
    "(a) sign-ins failing on the IdP carry SSO_OUTBOUND_FAILED / SSO_TOKEN_REQUEST_FAILED and a reference code",
    idpBad.length === 0 && idpCodes.has("SSO_OUTBOUND_FAILED") && idpCodes.has("SSO_TOKEN_REQUEST_FAILED"),
    [
      `${inIdp.length} failed answers in the window: ${[...idpCodes].map(([c, n]) => `${n} × ${c}`).join(", ") || "none of the expected codes"}` +
        `; failures of another kind or without a reference code: ${idpBad.length}`,
      ...sample(idpBad, (f) => describe(run, f.answer)),
    ],
  );

  // 4. (b) the database restart.
  const inRestart = failures.filter((f) => windowOf(run, f.answer.at) === "restart");
  const restartBad = inRestart.filter((f) => !explained(run, f.answer, f.kind));
  const died = run.instances.filter((i) => !i.aliveAfterRestart);
  assert(
    "(b) during the PostgreSQL restart: only 503 SERVICE_UNAVAILABLE with retry-after; both instances stay up",
    restartBad.length === 0 && died.length === 0,
    [
      `restart took ${((m.dbRestartEnd - m.dbRestartStart) / 1000).toFixed(2)} s; ${inRestart.length} failed answers in the window, ${restartBad.length} of another kind; instances up afterwards: ${run.instances.filter((i) => i.aliveAfterRestart).length} of ${run.instances.length}`,
      ...sample(restartBad, (f) => describe(run, f.answer)),
    ],
  );

  // 5. (c) the killed instance.
  const killed = run.balancer.counters[run.killedName];
  const routedAfterKill = killed?.routedAt.filter((at) => at > m.killAt).length ?? 0;
  const skipped = killed?.refusedAt.filter((at) => at > m.killAt).length ?? 0;
  const inKill = failures.filter((f) => windowOf(run, f.answer.at) === "kill");
  const killBad = inKill.filter((f) => !explained(run, f.answer, f.kind));
  const survivorSignIns = countBetween(okSignIns, m.killAt, m.loadEnd);
  assert(
    `(c) after ${run.killedName} is killed the balancer sends it nothing and the other instance carries on`,
    routedAfterKill === 0 && killBad.length === 0 && survivorSignIns > 0,
    [
      `connections routed to ${run.killedName} after the kill: ${routedAfterKill}; connects to it refused and skipped: ${skipped}; ` +
        `failed answers in the ${limits.graceMs / 1000} s after the kill: ${inKill.length} (${inKill.filter((f) => f.kind === "connection").length} without an answer); ` +
        `sign-ins afterwards: ${survivorSignIns}`,
      ...sample(killBad, (f) => describe(run, f.answer)),
    ],
  );

  // 6. Nothing outside the windows.
  const outside = failures.filter((f) => windowOf(run, f.answer.at) === "outside");
  const failedSignInsOutside = recorder.signIns.filter((s) => !s.ok && windowOf(run, s.at) === "outside");
  assert(
    `no failure outside the fault windows (each + ${limits.graceMs / 1000} s grace)`,
    outside.length === 0,
    [
      `${outside.length} failed answers, ${failedSignInsOutside.length} failed sign-ins outside the windows`,
      ...sample(outside, (f) => describe(run, f.answer)),
    ],
  );

  // 7. No session lost.
  const lost = recorder.sessions.filter((s) => s.lostAt !== undefined);
  const sweepBad = run.sweep.answers.filter((a) => kindOf(a) !== undefined);
  const okHashes = recorder.sessions.map((s) => hashToken(s.token));
  const missing = okHashes.filter((h) => !run.database.sessions.has(h));
  const revoked = okHashes.filter((h) => run.database.sessions.get(h)?.revoked);
  const wrongOwner = recorder.sessions.filter((s) => {
    const row = run.database.sessions.get(hashToken(s.token));
    return row !== undefined && row.email !== s.email;
  });
  assert(
    "no session lost: every session obtained keeps working, before and after every fault",
    lost.length === 0 && sweepBad.length === 0 && missing.length === 0 && revoked.length === 0,
    [
      `${recorder.sessions.length} sessions obtained; 401 for a session that had been issued: ${lost.length}; ` +
        `final sweep through the balancer: ${run.sweep.answers.length} of ${run.sweep.total} checked, ${sweepBad.length} not 200; ` +
        `missing from the database: ${missing.length}; revoked: ${revoked.length}`,
      ...sample(
        lost,
        (s) =>
          `${s.email}: obtained at ${(s.obtainedAt / 1000).toFixed(1)} s, 401 at ${((s.lostAt ?? 0) / 1000).toFixed(1)} s`,
      ),
      ...sample(sweepBad, (a) => describe(run, a)),
    ],
  );

  // 8. No session duplicated or mixed up.
  const distinct = new Set(recorder.sessions.map((s) => s.token)).size;
  const mixedUp = recorder.answers.filter((a) => a.step === "me" && a.status === 200 && a.error);
  assert(
    "no session duplicated or mixed up: every cookie distinct, every check answered for its own user",
    distinct === recorder.sessions.length && mixedUp.length === 0 && wrongOwner.length === 0,
    [
      `${distinct} distinct cookies of ${recorder.sessions.length}; checks answered for another user: ${mixedUp.length}; rows of another user: ${wrongOwner.length}`,
      ...sample(mixedUp, (a) => describe(run, a)),
    ],
  );

  // 9. Session rows against successful sign-ins.
  const okSet = new Set(okHashes);
  const extra = [...run.database.sessions.keys()].filter((h) => !okSet.has(h));
  const onFailure = new Set(
    recorder.signIns.filter((s) => s.cookieOnFailure).map((s) => hashToken(s.cookieOnFailure ?? "")),
  );
  const committedDespiteError = extra.filter((h) => onFailure.has(h));
  const unexplained = extra.filter((h) => !onFailure.has(h));
  const cutOff = recorder.answers.filter((a) => a.step === "callback" && a.status === 0).length;
  const signInsOk = recorder.signIns.filter((s) => s.ok).length;
  assert(
    "session rows in the database = successful sign-ins",
    run.database.sessions.size === signInsOk ||
      (unexplained.length <= cutOff && committedDespiteError.length === 0),
    [
      `${run.database.sessions.size} rows, ${signInsOk} successful sign-ins (${recorder.signIns.length} attempts)` +
        (extra.length > 0
          ? `; ${extra.length} rows without a successful sign-in: ${committedDespiteError.length} from callbacks answered with an error (cookie set on the error page), ` +
            `${unexplained.length} others (callbacks cut off without an answer: ${cutOff})`
          : ""),
      `session cookies set on failed callbacks: ${onFailure.size} (of which stored: ${committedDespiteError.length})`,
    ],
  );

  // 10. No half-written user or connection.
  const broken = run.database.problems.filter((p) => p.rows.length > 0);
  const connection = run.database.connections;
  const connectionOk =
    connection.length === 1 &&
    connection[0]?.domains.join(",") === "acme.test" &&
    connection[0].status === "enabled";
  const newOk = new Set(recorder.signIns.filter((s) => s.ok && s.isNew).map((s) => s.email));
  const missingUsers = [...newOk].filter((e) => !run.database.users.has(e));
  const auditOk = run.database.auditSignInSuccesses === run.database.sessions.size;
  const provisionedOk = run.database.auditProvisioned === run.database.ssoUsers;
  assert(
    "no half-written user or connection: one membership and one identity per user, no orphan rows, the connection has its domain",
    broken.length === 0 && connectionOk && missingUsers.length === 0 && auditOk && provisionedOk,
    [
      `${run.database.users.size} users (${run.database.ssoUsers} by SSO), ${run.database.problems.length - broken.length} of ${run.database.problems.length} integrity checks clean; ` +
        `connections: ${connection.map((c) => `${c.name} [${c.domains.join(", ")}] ${c.status}`).join("; ")}`,
      `audit: ${run.database.auditSignInSuccesses} successful SSO sign-ins recorded for ${run.database.sessions.size} sessions; ` +
        `${run.database.auditProvisioned} users provisioned for ${run.database.ssoUsers} SSO users; new users signed in but absent: ${missingUsers.length}`,
      ...broken.map((p) => `${p.check}: ${p.rows.length} rows, e.g. ${p.rows.slice(0, 3).join(" | ")}`),
    ],
  );

  // 11. Throughput back to normal.
  const slow = Object.entries(recoveries).filter(([, r]) => r === null || r > limits.recoveryLimitMs);
  assert(
    `throughput back to ≥ ${limits.recoveryShare * 100} % of the baseline within ${limits.recoveryLimitMs / 1000} s of each fault's end, no restart of the survivor`,
    slow.length === 0,
    Object.entries(recoveries).map(
      ([name, r]) =>
        `${name}: ${r === null ? "did not recover within the phase" : `${(r / 1000).toFixed(1)} s`}`,
    ),
  );

  // 12. Graceful shutdown.
  const survivor = run.instances.find((i) => i.killedAt === undefined);
  const exitMs = m.exitAt - m.sigtermAt;
  const notFinished = run.inFlightAtSigterm.filter((a) => a.status !== 303);
  const afterSigterm = recorder.answers.filter((a) => a.sentAt >= m.sigtermAt);
  const shutdownBad = failures.filter(
    (f) => windowOf(run, f.answer.at) === "shutdown" && !explained(run, f.answer, f.kind),
  );
  assert(
    `SIGTERM: the survivor finishes its in-flight requests and exits 0 within ${limits.shutdownLimitMs / 1000} s`,
    survivor?.exitCode === 0 &&
      exitMs <= limits.shutdownLimitMs &&
      notFinished.length === 0 &&
      run.inFlightAtSigterm.length > 0 &&
      shutdownBad.length === 0,
    [
      `exit code ${String(survivor?.exitCode)} after ${(exitMs / 1000).toFixed(2)} s; ` +
        `callbacks in flight at SIGTERM (held at the IdP): ${run.inFlightAtSigterm.length}, finished with a session: ${run.inFlightAtSigterm.length - notFinished.length}; ` +
        `requests sent after SIGTERM: ${afterSigterm.length}, of which answered: ${afterSigterm.filter((a) => a.status > 0).length}`,
      ...sample(notFinished, (a) => describe(run, a)),
      ...sample(shutdownBad, (f) => `answered during shutdown: ${describe(run, f.answer)}`),
    ],
  );

  out.push("Assertions");
  out.push(
    assertions
      .map((a) => `${a.ok ? "PASS" : "FAIL"}  ${a.name}\n${a.detail.map((d) => `      ${d}`).join("\n")}`)
      .join("\n"),
  );
  const failed = assertions.filter((a) => !a.ok).length;

  const loadOther = run.otherCores.filter((s) => s.at >= m.loadStart && s.at <= m.loadEnd);
  const meanOther = loadOther.reduce((sum, s) => sum + s.cores, 0) / Math.max(1, loadOther.length);
  const peakOther = Math.max(0, ...loadOther.map((s) => s.cores));
  out.push("");
  out.push(
    `Other load on the machine during the soak: ${meanOther.toFixed(2)} cores on average, ${peakOther.toFixed(2)} at the peak second` +
      (meanOther > 0.3 ? " — the rates above are noisy" : ""),
  );
  for (const note of run.notes) out.push(`Note: ${note}`);
  out.push("");
  out.push(
    failed === 0
      ? "soak: all assertions passed"
      : `soak: ${failed} of ${assertions.length} assertions FAILED`,
  );

  return {
    text: out.join("\n"),
    failed,
    summary: {
      baseline,
      recoveries,
      assertions: assertions.map((a) => ({ name: a.name, ok: a.ok, detail: a.detail })),
      answers: recorder.answers.length,
      signIns: recorder.signIns.length,
      sessions: recorder.sessions.length,
      otherCores: { mean: meanOther, peak: peakOther },
    },
  };
}

/** A pino line as `message: ErrorType: error message`, or the raw line cut short. */
function logSummary(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; err?: { type?: unknown; message?: unknown } };
    return [entry.msg, entry.err?.type, entry.err?.message]
      .filter((part) => typeof part === "string")
      .join(": ");
  } catch {
    return line.slice(0, 300);
  }
}

/** Exited before the soak killed or stopped it. */
function diedUnasked(instance: InstanceFacts): boolean {
  if (instance.exitedAt === undefined) return false;
  const asked = Math.min(
    instance.killedAt ?? Number.POSITIVE_INFINITY,
    instance.stoppedAt ?? Number.POSITIVE_INFINITY,
  );
  return instance.exitedAt < asked;
}

function sample<T>(items: readonly T[], show: (item: T) => string, max = 5): string[] {
  const lines = items.slice(0, max).map((item) => `  e.g. ${show(item)}`);
  if (items.length > max) lines.push(`  ... and ${items.length - max} more`);
  return lines;
}
