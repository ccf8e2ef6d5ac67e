import { randomBytes, randomInt } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomToken } from "../../src/crypto/tokens.js";
import type { Dialect } from "../../src/store/database.js";
import { type CpuProfile, formatProfileSummary, summarizeProfile } from "../profile-summary.js";
import { keepAlivePool } from "./client.js";
import { type BenchDatabase, createPostgres, createSqlite, postgresServerUrl } from "./databases.js";
import {
  type GatehouseProcess,
  gatehouseEnv,
  insertSessions,
  RESULTS,
  seed,
  startGatehouse,
} from "./gatehouse.js";
import { closedLoop, type Operation, openLoop } from "./load.js";
import { processRssBytes } from "./proc.js";
import type { DatabaseResult } from "./report.js";
import { clientLoopDelay, runtimeDelta, runtimeReading } from "./runtime.js";
import {
  bounds,
  checkStopping,
  freePort,
  measured,
  type PidGroups,
  progress,
  registerClient,
  runFloor,
  type Shared,
} from "./scenario.js";
import { sessionCheck, ssoSignIn } from "./sign-in.js";
import { statementCounts, statementsPerOp } from "./statements.js";

/** Open-loop phases stop starting operations when this many are waiting for an answer. */
const MAX_IN_FLIGHT = 256;

/**
 * Every phase against one database, in order: set-up, the floor, sign-ins (returning users,
 * new users, half the maximum rate), 100,000 sessions inserted, session checks (full load,
 * paced); then Gatehouse is stopped and the database dropped, whatever happened.
 */
export async function runDatabase(shared: Shared, dialect: Dialect): Promise<DatabaseResult> {
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
        const first = await closedLoop(c, bounds(shared, 60_000, users), returning);
        if (first.completed !== users) {
          throw new Error(`the first sign-ins failed: ${first.errorSamples.join(" | ") || "interrupted"}`);
        }
        await closedLoop(c, bounds(shared, settings.warmupMs, settings.maxCount), returning);
        checkStopping(shared.signal);

        progress(`${dialect}: floor, openid-client against the fast OP (${settings.floorMs / 1000} s)`);
        const floor = await runFloor(shared);
        progress(`  ${floor.rate.toFixed(0)} sign-ins/s`);
        checkStopping(shared.signal);

        progress(`${dialect}: sign-ins, returning users (${settings.signInMs / 1000} s)`);
        let from = since();
        const statements0 = await statementCounts(pool);
        const flushes0 = await database.walFlushes();
        const returningReport = await measured(shared, groups, () =>
          closedLoop(c, bounds(shared, settings.signInMs, settings.maxCount), returning),
        );
        const statements1 = await statementCounts(pool);
        const flushes1 = await database.walFlushes();
        progress(`  ${returningReport.rate.toFixed(0)} sign-ins/s`);

        progress(`${dialect}: sign-ins, new users (${settings.signInMs / 1000} s)`);
        const batch = randomBytes(4).toString("hex");
        const newUsers: Operation = (i) => ssoSignIn(pool, opPool, `new-${batch}-${i}@acme.test`);
        const newReport = await measured(shared, groups, () =>
          closedLoop(c, bounds(shared, settings.signInMs, settings.maxCount), newUsers),
        );
        const statements2 = await statementCounts(pool);
        const flushes2 = await database.walFlushes();
        windows["sign-in phases (returning + new users)"] = [from, since()];
        progress(`  ${newReport.rate.toFixed(0)} sign-ins/s`);

        const halfRate = returningReport.rate / 2;
        progress(
          `${dialect}: callback latency at ${halfRate.toFixed(0)} sign-ins/s (${settings.halfRateMs / 1000} s)`,
        );
        const runtimeHalf = await runtimeReading(pool);
        const halfReport = await measured(shared, groups, () =>
          openLoop(
            halfRate,
            MAX_IN_FLIGHT,
            bounds(shared, settings.halfRateMs, Math.ceil((halfRate * settings.halfRateMs) / 1000)),
            returning,
          ),
        );
        const halfRuntime = runtimeDelta(runtimeHalf, await runtimeReading(pool));
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
        checkStopping(shared.signal);

        const check: Operation = () => sessionCheck(pool, tokens[randomInt(tokens.length)]!);
        // Every session once, as its browser would after signing in: the session cache holds
        // sessions that were checked before, and the phase measures a server in its steady state.
        progress(`${dialect}: checking each session once`);
        await closedLoop(c, bounds(shared, Math.max(settings.sessionWarmupMs, 60_000), tokens.length), (i) =>
          sessionCheck(pool, tokens[i % tokens.length]!),
        );
        await closedLoop(c, bounds(shared, settings.sessionWarmupMs, settings.maxCount), check);
        progress(`${dialect}: session checks (${settings.sessionMs / 1000} s)`);
        from = since();
        const statements3 = await statementCounts(pool);
        const runtime0 = await runtimeReading(pool);
        const maxReport = await measured(shared, groups, () =>
          closedLoop(c, bounds(shared, settings.sessionMs, settings.maxCount), check),
        );
        const maxRuntime = runtimeDelta(runtime0, await runtimeReading(pool));
        const statements4 = await statementCounts(pool);
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
        const statements5 = await statementCounts(pool);
        const runtime1 = await runtimeReading(pool);
        const paced = await clientLoopDelay(() =>
          measured(shared, groups, () =>
            openLoop(
              pacedRate,
              MAX_IN_FLIGHT,
              bounds(shared, settings.pacedMs, Math.ceil((pacedRate * settings.pacedMs) / 1000)),
              check,
            ),
          ),
        );
        const pacedReport = paced.result;
        const pacedRuntime = runtimeDelta(runtime1, await runtimeReading(pool));
        const statements6 = await statementCounts(pool);
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
          runtime: {
            halfRate: halfRuntime,
            sessionMax: maxRuntime,
            sessionPaced: pacedRuntime,
            clientPaced: { loopDelayP99Ms: paced.loopDelayP99Ms, loopDelayMaxMs: paced.loopDelayMaxMs },
          },
          rssBeforeBytes: rssBefore,
          rssAfterBytes: rssAfter,
          rssPeakBytes: rssPeak,
          loginTransactions: Number(loginTransactions),
          // Each /metrics reading is a request too, but reads no database.
          statementsPerOp: {
            returning: statementsPerOp(statements0, statements1, returningReport.completed),
            newUsers: statementsPerOp(statements1, statements2, newReport.completed),
            check: statementsPerOp(statements3, statements4, maxReport.completed),
            pacedCheck: statementsPerOp(statements5, statements6, pacedReport.completed),
          },
          ...(flushes0 !== undefined && flushes1 !== undefined && flushes2 !== undefined
            ? {
                walFlushesPerSignIn: {
                  returning: (flushes1 - flushes0) / returningReport.completed,
                  newUsers: (flushes2 - flushes1) / newReport.completed,
                },
              }
            : {}),
          ...(profileDir ? { profileWindows: windows } : {}),
          notes,
        };
        await pool.close();
        if (profileDir) await summarizeProfiles(shared, gh, profileDir, dialect, windows);
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
  shared: Shared,
  gatehouse: GatehouseProcess,
  profileDir: string,
  dialect: Dialect,
  windows: Record<string, [number, number]>,
): Promise<void> {
  // --cpu-prof writes the profile on a normal exit only, not when the process is killed.
  const code = await gatehouse.stop({ graceMs: 30_000 });
  if (code === null) throw new Error("Gatehouse did not exit within 30 s of SIGTERM: no profile was written");
  const file = path.join(profileDir, "gatehouse.cpuprofile");
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const texts: string[] = [];
  for (const [name, [fromMs, toMs]] of Object.entries(windows)) {
    texts.push(formatProfileSummary(`${dialect}, ${name}`, summarizeProfile(profile, { fromMs, toMs })));
  }
  const text = texts.join("\n\n");
  writeFileSync(path.join(RESULTS, `profile-${dialect}.txt`), `${text}\n`);
  shared.profileTexts.push(text);
}
