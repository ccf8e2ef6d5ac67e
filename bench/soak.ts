import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { randomToken } from "../src/crypto/tokens.js";
import { ERRORS } from "../src/error-registry.js";
import { startChild, stopAll } from "./lib/children.js";
import { keepAlivePool } from "./lib/client.js";
import {
  buildGatehouse,
  type GatehouseProcess,
  gatehouseEnv,
  RESULTS,
  ROOT,
  seed,
  startGatehouse,
} from "./lib/gatehouse.js";
import { type CpuSnapshot, cpuDelta, loadAverage, snapshotCpu } from "./lib/proc.js";
import { freePort, registerClient } from "./lib/scenario.js";
import { startBalancer } from "./lib/soak-balancer.js";
import { readDatabaseFacts } from "./lib/soak-checks.js";
import {
  type Answer,
  type ClientOptions,
  Recorder,
  runClients,
  signIn,
  sweepSessions,
} from "./lib/soak-clients.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./lib/soak-postgres.js";
import { evaluateSoak, type InstanceFacts, type Limits, type Marks } from "./lib/soak-report.js";

const USAGE = `Usage: npm run soak

Two Gatehouse instances behind a round-robin TCP balancer on 127.0.0.1, on a PostgreSQL
cluster of the soak's own (initdb'd in a temporary folder, 127.0.0.1:55432 or a free port if
that one is taken, deleted afterwards), with 50 virtual browsers signing in through a fast
local OpenID Provider and checking their sessions. While they run: (a) the OP's token endpoint turns slow, then fails; (b) PostgreSQL
restarts; (c) one instance is killed with SIGKILL. Then the survivor gets SIGTERM. Prints a
timeline, the failures by fault and the assertions; exits 1 when one fails. About 70 s,
never more than 240 s after compiling. Logs: bench/results/soak-*.log; summary: bench/results/soak-latest.json.

  --main <file>   run this build of Gatehouse (a dist/main.js) instead of compiling src/ into
                  bench/results/soak-build, e.g. to try a candidate fix
  --twins         one new user in ten signs in from two browsers at the same moment (two tabs,
                  a double click): the first sign-in of one person, twice in parallel`;

const CLIENTS = 50;
const RETURNING_USERS = 100;
const NEW_SHARE = 0.3;
const TWIN_SHARE = 0.1;
const CHECKS_PER_LOOP = 3;
const BACKOFF_MS = 250;
const IDP_TIMEOUT_MS = 2000;
const WARMUP_MS = 8000;
const BASELINE_MS = 8000;
const IDP_SLOW_MS = 5000;
const IDP_SLOW_DELAY_MS = 3000;
const IDP_FAIL_MS = 10_000;
const AFTER_FAULT_MS = 8000;
const AFTER_KILL_MS = 10_000;
const SWEEP_MS = 5000;
/** At shutdown the OP holds each token request this long, so that sign-ins are in flight. */
const SHUTDOWN_HOLD_MS = 800;
const SHUTDOWN_LEAD_MS = 1500;
const TIME_LIMIT_MS = 240_000;
const LIMITS: Limits = { graceMs: 3000, recoveryLimitMs: 2000, recoveryShare: 0.8, shutdownLimitMs: 5000 };
const RATE_LIMIT = "1000000";

const stopping = new AbortController();
let interrupts = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupts++;
    // The exit hooks still kill the children and remove the cluster.
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\n${signal}: stopping and cleaning up (again to quit at once)\n`);
    stopping.abort(new Error(`interrupted by ${signal}`));
  });
}
/**
 * Whatever happens, the soak ends by itself: first it winds down, then it quits. Counted from
 * the end of the compile, which blocks the event loop and takes minutes on a busy machine.
 */
function armTimeLimit(): void {
  setTimeout(
    () => stopping.abort(new Error(`time limit of ${TIME_LIMIT_MS / 1000} s nearly reached`)),
    TIME_LIMIT_MS - 15_000,
  ).unref();
  setTimeout(() => {
    process.stderr.write("soak: time limit reached, quitting\n");
    process.exit(1);
  }, TIME_LIMIT_MS).unref();
}

const began = performance.now();
function progress(message: string): void {
  process.stderr.write(
    `[soak ${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${message}\n`,
  );
}

/** Waits `ms`, or throws as soon as the run is being stopped. */
async function pause(ms: number): Promise<void> {
  const signal = stopping.signal;
  signal.throwIfAborted();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
  signal.throwIfAborted();
}

/** The codes Gatehouse defines: the error registry's, so the list never drifts. */
function knownCodes(): Set<string> {
  return new Set(Object.keys(ERRORS));
}

async function setTokenFault(
  opOrigin: string,
  fault: { token: "ok" | "fail" } | { token: "slow"; delayMs: number },
) {
  const response = await fetch(`${opOrigin}/_bench/faults`, { method: "POST", body: JSON.stringify(fault) });
  if (response.status !== 204) throw new Error(`the fast OP refused the fault: HTTP ${response.status}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean", short: "h", default: false },
      main: { type: "string" },
      twins: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  mkdirSync(RESULTS, { recursive: true });
  const notes: string[] = [
    `GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE=${RATE_LIMIT} on both instances: every virtual browser is 127.0.0.1 (default 60 a minute per IP); the limit is still counted on every step`,
    `GATEHOUSE_IDP_TIMEOUT_MS=${IDP_TIMEOUT_MS}; fault (a) holds each token request ${IDP_SLOW_DELAY_MS} ms for ${IDP_SLOW_MS / 1000} s, then answers HTTP 500 for ${IDP_FAIL_MS / 1000} s (JSON server_error and bare text, alternately)`,
    `load average at start: ${loadAverage().join(" ")}`,
  ];
  if (values.twins)
    notes.push(`--twins: ${TWIN_SHARE * 100} % of new users sign in from two browsers at once`);

  let main: string;
  if (values.main) {
    main = path.resolve(values.main);
    if (!existsSync(main)) throw new Error(`--main: ${main} does not exist`);
    notes.push(`Gatehouse from ${main}, not from src/`);
  } else {
    progress("compiling src/ into bench/results/soak-build (when changed)");
    const build = buildGatehouse(path.join(RESULTS, "soak-build"));
    if (build.warning) notes.push(build.warning.split("\n")[0] ?? "tsc reported errors");
    main = build.main;
  }
  armTimeLimit();
  stopping.signal.throwIfAborted();

  progress("starting a throwaway PostgreSQL cluster");
  const postgres: ThrowawayPostgres = await startThrowawayPostgres();
  notes.push(`throwaway PostgreSQL on 127.0.0.1:${postgres.port} in ${postgres.dir} (removed at the end)`);
  const cleanups: Array<() => Promise<unknown>> = [() => postgres.stop()];
  const instances: GatehouseProcess[] = [];
  let cpuTimer: NodeJS.Timeout | undefined;
  try {
    const op = await startChild("fast-op", {
      args: ["--import", "tsx", path.join(ROOT, "bench/fast-op.ts")],
      waitForJsonLine: true,
      logFile: path.join(RESULTS, "soak-fast-op.log"),
    });
    cleanups.unshift(() => op.stop());
    const issuer = String(op.ready.issuer);
    const opOrigin = new URL(issuer).origin;
    const opPool = keepAlivePool(issuer, 64);
    cleanups.unshift(() => opPool.close());

    const recorder = new Recorder();
    const portA = await freePort();
    let portB = await freePort();
    while (portB === portA) portB = await freePort();
    const names = ["A", "B"] as const;
    const balancer = await startBalancer(
      [
        { name: "A", port: portA },
        { name: "B", port: portB },
      ],
      () => recorder.now(),
    );
    cleanups.unshift(() => balancer.close());

    const clientId = "gatehouse-soak";
    const clientSecret = randomToken();
    await registerClient(opPool, {
      clientId,
      clientSecret,
      redirectUris: [`${balancer.url}/sso/oidc/callback`],
    });
    const secretKey = randomBytes(32).toString("base64");
    const envFor = (port: number) => ({
      ...gatehouseEnv({ databaseUrl: postgres.url, secretKey, port }),
      // One public URL for both: the balancer's.
      GATEHOUSE_BASE_URL: `${balancer.url}/`,
      GATEHOUSE_IDP_TIMEOUT_MS: String(IDP_TIMEOUT_MS),
      GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: RATE_LIMIT,
    });
    progress("creating the organization and the connection (and the schema)");
    const seeded = await seed(envFor(portA), { issuer, clientId, clientSecret });
    await seeded.ctx.store.close();

    progress("starting two Gatehouse instances");
    const started = await Promise.all(
      [portA, portB].map((port, i) =>
        startGatehouse({
          command: [main],
          env: envFor(port),
          logFile: path.join(RESULTS, `soak-gatehouse-${names[i]}.log`),
        }),
      ),
    );
    instances.push(...started);
    cleanups.unshift(() => Promise.all(instances.map((instance) => instance.stop())));
    const [a, b] = started as [GatehouseProcess, GatehouseProcess];
    const instanceFacts: InstanceFacts[] = started.map((instance, i) => {
      const facts: InstanceFacts = {
        name: names[i]!,
        pid: instance.pid,
        aliveAfterRestart: false,
      };
      instance.child.once("exit", (code, signal) => {
        facts.exitedAt = recorder.now();
        facts.exit = signal ?? `code ${code}`;
      });
      return facts;
    });
    const gatehouse = keepAlivePool(balancer.url, 64);
    cleanups.unshift(() => gatehouse.close());

    // Once a second: the CPU of everything outside the soak, to tell a noisy run.
    let previous: CpuSnapshot | undefined;
    const otherCores: Array<{ at: number; cores: number }> = [];
    const groups = () => ({
      soak: [process.pid, op.pid],
      gatehouse: instances.map((i) => i.pid),
      postgres: postgres.pids(),
    });
    cpuTimer = setInterval(() => {
      const snapshot = snapshotCpu(groups());
      if (previous) otherCores.push({ at: recorder.now(), cores: cpuDelta(previous, snapshot).otherCores });
      previous = snapshot;
    }, 1000);

    const returningEmails = Array.from({ length: RETURNING_USERS }, (_, i) => `user${i}@acme.test`);
    progress(`signing in ${RETURNING_USERS} returning users once`);
    const queue = [...returningEmails];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let email = queue.shift(); email; email = queue.shift()) {
          if (
            (await signIn(recorder, { gatehouse, op: opPool, opOrigin }, client, email, true)) === undefined
          ) {
            throw new Error(
              `the first sign-in of ${email} failed: ${JSON.stringify(recorder.answers.at(-1))}`,
            );
          }
        }
      }),
    );

    const tag = randomBytes(3).toString("hex");
    const load = new AbortController();
    const clientOptions = (signal: AbortSignal): ClientOptions => ({
      gatehouse,
      op: opPool,
      opOrigin,
      returningEmails,
      newShare: NEW_SHARE,
      twinShare: values.twins ? TWIN_SHARE : 0,
      checksPerLoop: CHECKS_PER_LOOP,
      backoffMs: BACKOFF_MS,
      maxLoops: 100_000,
      signal,
    });
    const stopLoad = () => load.abort();
    stopping.signal.addEventListener("abort", stopLoad);
    const marks: Partial<Marks> = {};

    progress(
      `load: ${CLIENTS} clients through the balancer; warm-up ${WARMUP_MS / 1000} s, baseline ${BASELINE_MS / 1000} s`,
    );
    marks.loadStart = recorder.now();
    const clients = runClients(recorder, clientOptions(load.signal), CLIENTS, tag);
    try {
      await pause(WARMUP_MS);
      marks.baselineStart = recorder.now();
      await pause(BASELINE_MS);

      progress(
        `(a) the OP's token endpoint holds each answer ${IDP_SLOW_DELAY_MS} ms for ${IDP_SLOW_MS / 1000} s`,
      );
      marks.idpSlowStart = recorder.now();
      await setTokenFault(opOrigin, { token: "slow", delayMs: IDP_SLOW_DELAY_MS });
      await pause(IDP_SLOW_MS);
      progress(`(a) the OP's token endpoint answers HTTP 500 for ${IDP_FAIL_MS / 1000} s`);
      marks.idpFailStart = recorder.now();
      await setTokenFault(opOrigin, { token: "fail" });
      await pause(IDP_FAIL_MS);
      await setTokenFault(opOrigin, { token: "ok" });
      marks.idpEnd = recorder.now();
      await pause(AFTER_FAULT_MS);

      progress("(b) pg_ctl restart -m fast");
      marks.dbRestartStart = recorder.now();
      await postgres.restart();
      marks.dbRestartEnd = recorder.now();
      for (const [i, instance] of started.entries()) {
        instanceFacts[i]!.aliveAfterRestart =
          instance.child.exitCode === null && instance.child.signalCode === null;
      }
      await pause(AFTER_FAULT_MS);

      progress("(c) SIGKILL to instance A");
      marks.killAt = recorder.now();
      a.child.kill("SIGKILL");
      instanceFacts[0]!.killedAt = marks.killAt;
      await pause(AFTER_KILL_MS);
      marks.loadEnd = recorder.now();
    } finally {
      load.abort();
      await clients;
      stopping.signal.removeEventListener("abort", stopLoad);
    }

    progress(`checking the sessions obtained so far (at most ${SWEEP_MS / 1000} s)`);
    marks.sweepStart = recorder.now();
    const everySession = recorder.sessions.map((_, i) => i);
    for (let i = everySession.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [everySession[i], everySession[j]] = [everySession[j]!, everySession[i]!];
    }
    const sweep = await sweepSessions(recorder, gatehouse, everySession, CLIENTS, recorder.now() + SWEEP_MS);
    stopping.signal.throwIfAborted();

    progress(`SIGTERM to instance B while sign-ins wait ${SHUTDOWN_HOLD_MS} ms at the OP`);
    marks.shutdownStart = recorder.now();
    await setTokenFault(opOrigin, { token: "slow", delayMs: SHUTDOWN_HOLD_MS });
    const last = new AbortController();
    const stopLast = () => last.abort();
    stopping.signal.addEventListener("abort", stopLast);
    const lastClients = runClients(recorder, clientOptions(last.signal), CLIENTS, `${tag}s`, 2000);
    let inFlightAtSigterm: Answer[] = [];
    try {
      await pause(SHUTDOWN_LEAD_MS);
      marks.sigtermAt = recorder.now();
      // Sent at least 100 ms before: already inside Gatehouse, waiting for the OP.
      inFlightAtSigterm = [...recorder.pending].filter(
        (answer) => answer.step === "callback" && answer.sentAt < (marks.sigtermAt ?? 0) - 100,
      );
      instanceFacts[1]!.stoppedAt = marks.sigtermAt;
      const code = await b.stop({ graceMs: 15_000 });
      marks.exitAt = recorder.now();
      instanceFacts[1]!.exitCode = code;
    } finally {
      last.abort();
      await lastClients;
      stopping.signal.removeEventListener("abort", stopLast);
      await setTokenFault(opOrigin, { token: "ok" }).catch(() => undefined);
    }

    progress("reading the database");
    const database = await readDatabaseFacts(postgres.url);
    clearInterval(cpuTimer);
    const logLines = names.flatMap((name) =>
      readFileSync(path.join(RESULTS, `soak-gatehouse-${name}.log`), "utf8").split("\n"),
    );

    // A crash leaves its reason on stderr: the uncaught error's first lines and its code.
    for (const [i, facts] of instanceFacts.entries()) {
      const asked = Math.min(
        facts.killedAt ?? Number.POSITIVE_INFINITY,
        facts.stoppedAt ?? Number.POSITIVE_INFINITY,
      );
      if (facts.exitedAt === undefined || facts.exitedAt >= asked) continue;
      const crash = readFileSync(path.join(RESULTS, `soak-gatehouse-${names[i]}.log`), "utf8")
        .split("\n")
        .filter((line) => /Unhandled|^\w*(Error|error):|^\s*code: '/.test(line))
        .map((line) => line.trim())
        .slice(0, 4)
        .join(" | ");
      if (crash) facts.crash = crash;
    }
    const verdict = evaluateSoak({
      recorder,
      marks: marks as Marks,
      limits: LIMITS,
      instances: instanceFacts,
      killedName: "A",
      balancer,
      sweep: { total: everySession.length, answers: sweep.answers },
      inFlightAtSigterm,
      database,
      knownCodes: knownCodes(),
      logLines,
      otherCores,
      notes,
    });
    const elapsed = (performance.now() - began) / 1000;
    process.stdout.write(
      `\nGatehouse soak: ${CLIENTS} clients, 2 instances behind a round-robin TCP balancer, PostgreSQL ${postgres.port}, ${elapsed.toFixed(0)} s in all\n\n${verdict.text}\n`,
    );
    writeFileSync(
      path.join(RESULTS, "soak-latest.json"),
      `${JSON.stringify({ startedAt: new Date(Date.now() - elapsed * 1000).toISOString(), seconds: elapsed, ...verdict.summary }, null, 2)}\n`,
    );
    return verdict.failed === 0 ? 0 : 1;
  } finally {
    clearInterval(cpuTimer);
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
