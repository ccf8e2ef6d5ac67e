import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { type CompiledQuery, sql } from "kysely";
import pg from "pg";
import type { Pool } from "undici";
import { createApiKey } from "../src/api/keys.js";
import { hashToken, randomToken } from "../src/crypto/tokens.js";
import { purgeExpired } from "../src/server/maintenance.js";
import { listAuditEvents } from "../src/store/audit.js";
import { findEnabledConnectionForDomain } from "../src/store/connections.js";
import { findIdentityWithMemberships } from "../src/store/identities.js";
import { consumeLoginTransaction, countOpenTransactionsForBrowser } from "../src/store/login-transactions.js";
import { hitRateLimits } from "../src/store/rate-limits.js";
import { findActiveSession } from "../src/store/sessions.js";
import { listOrganizationUsers } from "../src/store/users.js";
import { stopAll } from "./lib/children.js";
import { keepAlivePool } from "./lib/client.js";
import {
  type Acme,
  expiredSessions,
  type LoadSizes,
  loadData,
  loadedSessionToken,
  loadedSignIn,
  loadSizes,
  openLoginTransaction,
  SESSIONS_LAST_USED_MS_AGO,
} from "./lib/data-load.js";
import { type BenchDatabase, createPostgres, postgresServerUrl } from "./lib/databases.js";
import {
  buildGatehouse,
  type GatehouseProcess,
  gatehouseEnv,
  insertSessions,
  RESULTS,
  type Seeded,
  seed,
  startGatehouse,
} from "./lib/gatehouse.js";
import { closedLoop, type Operation, percentiles } from "./lib/load.js";
import { freePort, measureCpu, registerClient, startFastOp } from "./lib/scenario.js";
import { sessionCheck, ssoSignIn } from "./lib/sign-in.js";

const USAGE = `Usage: npm run bench:data -- [--scale <factor>]

Measures Gatehouse's CPU per SSO sign-in (returning and new users, against a fast local
OpenID Provider) and per session check (first, from the database, and again, from the cache) on
the empty database; then loads a fresh PostgreSQL schema with 100,000 organizations (each with a
verified domain and an enabled connection), 1,000,000 users (each with an identity),
1,000,000 live sessions (plus 100,000 expired ones), 1,000,000 login transactions, 100,000
rate-limit counters and 10,000,000 audit events, times --scale (default 0.1), server-side with
INSERT ... SELECT generate_series, and measures the same again, each against "within 20 % of the
empty database", then the list endpoints' and the Enterprise Authentication page's p99, a
maintenance purge under load, and the plan (EXPLAIN) of every hot, sign-in and list query.`;

/** Loaded CPU per operation may be this many times the empty database's. */
const WITHIN_EMPTY = 1.2;
const CONCURRENCY = 8;
/** Acme's users `user<n>@acme.test` signing in again and again. */
const RETURNING_USERS = 200;
const SIGN_IN_WARMUP = 400;
const SIGN_INS = 2000;
const NEW_USERS = 1000;
/**
 * Sessions checked to warm the route up, sessions measured each once, and how many times more
 * each is checked from the cache: enough that a round's CPU is many of /proc's 10 ms ticks.
 */
const CHECK_WARMUP = 500;
const CHECKS = 4000;
const CACHED_CHECKS_EACH = 3;
/** Each measurement in this many rounds, for the median. */
const ROUNDS = 5;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { scale: { type: "string", default: "0.1" }, help: { type: "boolean", default: false } },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const scale = Number(values.scale);
  const serverUrl = postgresServerUrl();
  if (!serverUrl) throw new Error("set GATEHOUSE_BENCH_POSTGRES_URL");
  const sizes = loadSizes(scale);
  const { op, opPool, issuer } = await startFastOp();
  try {
    const database = await createPostgres(serverUrl);
    try {
      await runAgainst(database, { opPool, issuer }, sizes, scale);
    } finally {
      await database.drop();
    }
  } finally {
    await opPool.close();
    await op.stop();
  }
}

interface Op {
  opPool: Pool;
  issuer: string;
}

async function runAgainst(database: BenchDatabase, op: Op, sizes: LoadSizes, scale: number): Promise<void> {
  const secretKey = randomBytes(32).toString("base64");
  const port = await freePort();
  const clientId = "gatehouse-data-size";
  const clientSecret = randomToken();
  await registerClient(op.opPool, {
    clientId,
    clientSecret,
    redirectUris: [`http://127.0.0.1:${port}/sso/oidc/callback`],
  });
  const seeded = await seed(gatehouseEnv({ databaseUrl: database.setupUrl, secretKey, port }), {
    issuer: op.issuer,
    clientId,
    clientSecret,
  });
  const { ctx } = seeded;
  try {
    const { key } = await createApiKey(ctx, "acme", "bench");
    const adminToken = randomBytes(32).toString("base64url");
    const now = Date.now();
    await ctx.store.db
      .insertInto("sessions")
      .values({
        id_hash: hashToken(adminToken),
        user_id: seeded.adminUserId,
        organization_id: seeded.organizationId,
        method: "password",
        connection_id: null,
        id_token: null,
        idp_sid: null,
        created_at: now,
        expires_at: now + 8 * 3600_000,
        revoked_at: null,
        last_seen_at: now,
      })
      .execute();
    const acme: Acme = { organizationId: seeded.organizationId, connectionId: seeded.connectionId };

    // The same build, started afresh on each side of the load: both measurements begin cold.
    const build = buildGatehouse();
    const start = (log: string) =>
      startGatehouse({
        command: [build.main],
        env: gatehouseEnv({ databaseUrl: database.gatehouseUrl, secretKey, port }),
        logFile: path.join(RESULTS, log),
      });

    log("empty database: sign-ins and session checks");
    const empty = await withGatehouse(await start("gatehouse-data-size-empty.log"), (gatehouse, pool) =>
      signInsAndChecks(database, gatehouse, pool, op, async () => {
        const userIds = (
          await ctx.store.db
            .selectFrom("users")
            .select("id")
            .where("email", "like", "user%@acme.test")
            .execute()
        ).map((r) => r.id);
        return insertSessions(
          seeded,
          userIds,
          CHECK_WARMUP + CHECKS,
          4,
          Date.now() - SESSIONS_LAST_USED_MS_AGO,
        );
      }),
    );

    log(`loading ${JSON.stringify(sizes)} (scale ${scale})`);
    const began = performance.now();
    await loadData(ctx.store.db, acme, sizes, now, log);
    log(`loaded in ${((performance.now() - began) / 1000).toFixed(0)} s`);
    const plans = await explainHotQueries(ctx, acme.organizationId, sizes, now);

    log("loaded database: sign-ins, session checks, list endpoints, purge");
    await withGatehouse(await start("gatehouse-data-size.log"), async (gatehouse, pool) => {
      // Checks spread over the loaded sessions; the warm-up's are others than the measured ones.
      const spread = (count: number, offset: number) =>
        Array.from({ length: count }, (_, i) =>
          loadedSessionToken(Math.floor((i * sizes.sessions) / count) + offset),
        );
      const loaded = await signInsAndChecks(database, gatehouse, pool, op, async () => [
        ...spread(CHECK_WARMUP, 1),
        ...spread(CHECKS, 0),
      ]);
      const results = [
        compare("SSO sign-in, returning user", empty.returning, loaded.returning, "ms"),
        compare("SSO sign-in, new user", empty.newUsers, loaded.newUsers, "ms"),
        compare(
          "session check, first (database read, its use recorded)",
          empty.checkDb,
          loaded.checkDb,
          "us",
        ),
        compare("session check, again (cache)", empty.checkCache, loaded.checkCache, "us"),
      ];
      results.push(...(await listEndpoints(pool, seeded, key, adminToken)));
      results.push(...(await purgeUnderLoad(seeded, acme, sizes, now, pool, spread(CHECKS, 0))));
      const counts = Object.entries(sizes).map(([k, v]) => `${v.toLocaleString("en-US")} ${k}`);
      process.stdout.write(
        [
          "",
          `Gatehouse with a loaded PostgreSQL (scale ${scale}): ${counts.join(", ")}; CPU per operation is Gatehouse's, empty -> loaded database, median of ${ROUNDS} rounds, met when loaded <= ${WITHIN_EMPTY} x empty`,
          ...results.map((r) => `- ${r}`),
          "",
          "Query plans:",
          ...plans,
          "",
        ].join("\n"),
      );
    });
  } finally {
    await ctx.store.close();
  }
}

async function withGatehouse<T>(
  gatehouse: GatehouseProcess,
  run: (gatehouse: GatehouseProcess, pool: Pool) => Promise<T>,
): Promise<T> {
  const pool = keepAlivePool(gatehouse.url, 16);
  try {
    return await run(gatehouse, pool);
  } finally {
    await pool.close();
    await gatehouse.stop();
  }
}

/** One operation measured in `ROUNDS` rounds: CPU per operation as the median of the rounds'. */
interface Rounds {
  /** Gatehouse's CPU ms per operation, per round. */
  gatehouse: number[];
  /** Its PostgreSQL backends'. */
  postgres: number[];
  p99: number;
  completed: number;
  /** Cores kept busy by other work on the machine, averaged over the rounds. */
  otherCores: number;
}

interface Figures {
  returning: Rounds;
  newUsers: Rounds;
  checkDb: Rounds;
  checkCache: Rounds;
}

/**
 * The operations the empty and the loaded database are compared on, each after a warm-up, at
 * 8 concurrent loops: sign-ins of returning users (signed in once first), of new users, and
 * checks of sessions Gatehouse has not seen (`sessions()`, after the sign-ins; the first
 * `CHECK_WARMUP` warm the route up), each once (a database read) and `CACHED_CHECKS_EACH` times more (the cache).
 */
async function signInsAndChecks(
  database: BenchDatabase,
  gatehouse: GatehouseProcess,
  pool: Pool,
  op: Op,
  sessions: () => Promise<string[]>,
): Promise<Figures> {
  const groups = async () => ({
    gatehouse: [gatehouse.pid],
    postgres: await database.gatehouseBackendPids(),
  });
  const loop = async (count: number, operation: Operation) => {
    const result = await closedLoop(
      CONCURRENCY,
      { maxMs: 300_000, maxCount: count, signal: new AbortController().signal },
      operation,
    );
    if (result.completed !== count)
      throw new Error(`${count - result.completed} of ${count} failed: ${result.errorSamples.join(" | ")}`);
    return result;
  };
  // The machine is shared: a round another process slowed down moves the median little.
  const rounds = async (count: number, operation: (round: number) => Operation): Promise<Rounds> => {
    const out: Rounds = { gatehouse: [], postgres: [], p99: 0, completed: 0, otherCores: 0 };
    const latencies: number[] = [];
    const perRound = Math.floor(count / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const report = await measureCpu(groups, async () => {
        const result = await loop(perRound, operation(round));
        latencies.push(...result.latencies);
        return result;
      });
      out.gatehouse.push(report.cpuMsPerOp.gatehouse ?? Number.NaN);
      out.postgres.push(report.cpuMsPerOp.postgres ?? Number.NaN);
      out.completed += report.completed;
      out.otherCores += report.otherCores / ROUNDS;
    }
    out.p99 = percentiles(latencies).p99;
    return out;
  };
  const returning: Operation = (i) => ssoSignIn(pool, op.opPool, `user${i % RETURNING_USERS}@acme.test`);
  await loop(RETURNING_USERS, returning);
  await loop(SIGN_IN_WARMUP, returning);
  const returningRounds = await rounds(SIGN_INS, () => returning);
  const batch = randomBytes(4).toString("hex");
  const newRounds = await rounds(
    NEW_USERS,
    (round) => (i) => ssoSignIn(pool, op.opPool, `new-${batch}-${round}-${i}@acme.test`),
  );
  const tokens = await sessions();
  const warmup = tokens.slice(0, CHECK_WARMUP);
  const measuredTokens = tokens.slice(CHECK_WARMUP);
  await loop(warmup.length * 3, (i) => sessionCheck(pool, warmup[i % warmup.length]!));
  // Each round checks sessions of its own, once; then all of them again, from the cache.
  const perRound = Math.floor(measuredTokens.length / ROUNDS);
  const checkDb = await rounds(
    measuredTokens.length,
    (round) => (i) => sessionCheck(pool, measuredTokens[round * perRound + i]!),
  );
  const checkCache = await rounds(
    measuredTokens.length * CACHED_CHECKS_EACH,
    () => (i) => sessionCheck(pool, measuredTokens[i % measuredTokens.length]!),
  );
  return { returning: returningRounds, newUsers: newRounds, checkDb, checkCache };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One operation's CPU, empty against loaded, Gatehouse's judged against `WITHIN_EMPTY`. */
function compare(label: string, empty: Rounds, loaded: Rounds, unit: "ms" | "us"): string {
  const show = (ms: number) =>
    Number.isNaN(ms) ? "?" : unit === "ms" ? `${ms.toFixed(2)} ms` : `${Math.round(ms * 1000)} us`;
  const spread = (values: number[]) => `${show(Math.min(...values))}..${show(Math.max(...values))}`;
  const e = median(empty.gatehouse);
  const l = median(loaded.gatehouse);
  const ratio = l / e;
  return (
    `${label}: CPU ${show(e)} -> ${show(l)} (x${ratio.toFixed(2)}) ${ratio <= WITHIN_EMPTY ? "met" : "NOT MET"}` +
    ` (rounds ${spread(empty.gatehouse)} -> ${spread(loaded.gatehouse)};` +
    ` PostgreSQL ${show(median(empty.postgres))} -> ${show(median(loaded.postgres))}),` +
    ` p99 ${empty.p99.toFixed(2)} -> ${loaded.p99.toFixed(2)} ms,` +
    ` ${empty.completed} / ${loaded.completed} operations, other load ${empty.otherCores.toFixed(1)} / ${loaded.otherCores.toFixed(1)} cores`
  );
}

async function listEndpoints(pool: Pool, seeded: Seeded, key: string, adminToken: string): Promise<string[]> {
  const bearer = { authorization: `Bearer ${key}` };
  const admin = { cookie: `gh_session=${adminToken}` };
  const deepBefore = await deepCursor(seeded.ctx, seeded.organizationId);
  const endpoints: [string, string, Record<string, string>][] = [
    ["GET /api/v1/users", "/api/v1/users", bearer],
    ["GET /api/v1/events (first page)", "/api/v1/events", bearer],
    ["GET /api/v1/events (deep page)", `/api/v1/events?${deepBefore}`, bearer],
    ["admin Enterprise Authentication page", "/admin/enterprise-authentication", admin],
  ];
  const results: string[] = [];
  for (const [label, url, headers] of endpoints) {
    const p = await latency(pool, url, headers, 200);
    results.push(
      `${label}: p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms ${p.p99 <= 50 ? "met" : "NOT MET"} (<= 50 ms)`,
    );
  }
  return results;
}

/** The maintenance purge while checks go on: their p99 during it says whether it blocks them. */
async function purgeUnderLoad(
  seeded: Seeded,
  acme: Acme,
  sizes: LoadSizes,
  now: number,
  pool: Pool,
  tokens: string[],
): Promise<string[]> {
  // Expired sessions arrive now: the server's own start-up purge would have taken them.
  await sql.raw(expiredSessions(acme, sizes, now)).execute(seeded.ctx.store.db);
  const purging = new AbortController();
  const during = closedLoop(8, { maxMs: 600_000, maxCount: 10_000_000, signal: purging.signal }, (i) =>
    sessionCheck(pool, tokens[(i + 17) % tokens.length]!),
  );
  const purgeBegan = performance.now();
  const purged = await purgeExpired(seeded.ctx);
  const purgeMs = performance.now() - purgeBegan;
  purging.abort();
  const duringResult = await during;
  const p = percentiles(duringResult.latencies);
  return [
    `maintenance purge: ${purged.sessions.toLocaleString("en-US")} expired sessions in ${(purgeMs / 1000).toFixed(1)} s (batches of 2,000)`,
    `session checks while the purge ran: p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, max ${Math.max(...duringResult.latencies).toFixed(1)} ms, ${duringResult.errors} errors`,
  ];
}

function log(message: string) {
  process.stderr.write(`[data-size] ${message}\n`);
}

async function latency(pool: Pool, url: string, headers: Record<string, string>, n: number) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const response = await pool.request({ method: "GET", path: url, headers });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
    times.push(performance.now() - started);
  }
  return percentiles(times);
}

type Db = Seeded["ctx"]["store"]["db"];

/** A `before`/`beforeId` pair 90% of the way down Acme's events: a deep page. */
async function deepCursor(ctx: { store: { db: Db } }, organizationId: string): Promise<string> {
  const { rows } = await sql<{ created_at: number; id: string; n: number }>`
    select created_at, id from audit_events where organization_id = ${organizationId}
    order by created_at desc, id desc
    offset (select (count(*) * 0.9)::int from audit_events where organization_id = ${organizationId}) limit 1`.execute(
    ctx.store.db,
  );
  const row = rows[0];
  if (!row) return "";
  return `before=${encodeURIComponent(new Date(row.created_at).toISOString())}&beforeId=${row.id}`;
}

class Rollback extends Error {}

/**
 * EXPLAIN of the statements the store really sends, captured from Kysely as they run (a handle
 * with a plugin builds even prepared queries with their real arguments: src/store/prepared.ts).
 * Each store call runs in a transaction rolled back afterwards, and each EXPLAIN ANALYZE too, so
 * that the sign-in's writes (rate limits, the login transaction's consumption) change nothing.
 */
async function explainHotQueries(
  ctx: Seeded["ctx"],
  organizationId: string,
  sizes: LoadSizes,
  now: number,
): Promise<string[]> {
  const captured: [string, CompiledQuery][] = [];
  const db = ctx.store.db;
  // A plugin sees each query's tree before it runs; compiling it gives the SQL the driver gets.
  const record = async (label: string, run: (d: Db) => Promise<unknown>) => {
    await db
      .transaction()
      .execute(async (trx) => {
        await run(
          trx.withPlugin({
            transformQuery(args) {
              captured.push([label, db.getExecutor().compileQuery(args.node, args.queryId)]);
              return args.node;
            },
            transformResult: async (args) => args.result,
          }),
        );
        throw new Rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error;
      });
  };
  await record("session check", (d) => findActiveSession(d, hashToken(loadedSessionToken(1)), now));
  // A loaded user's sign-in, in the order the statements run.
  const user = loadedSignIn(sizes, 1);
  const open = openLoginTransaction();
  await record("sign-in start: the address's limits", (d) =>
    hitRateLimits(
      d,
      [
        { key: "sso:start:net:10.0.0.1", windowMs: 60_000 },
        { key: "sso:open:net:10.0.0.1", windowMs: 600_000 },
      ],
      now,
    ),
  );
  await record("sign-in start: connection for the email's domain", (d) =>
    findEnabledConnectionForDomain(d, user.domain, now),
  );
  await record("sign-in start: open sign-ins of the browser (a browser with a binding cookie)", (d) =>
    countOpenTransactionsForBrowser(d, open.browserHash, now),
  );
  await record("sign-in callback: the login transaction consumed", (d) =>
    consumeLoginTransaction(d, open.id, now),
  );
  await record("sign-in callback: the returning user's identity", (d) =>
    findIdentityWithMemberships(d, user.providerKey, user.subject),
  );
  await record("GET /api/v1/users", (d) => listOrganizationUsers(d, organizationId, { limit: 51 }));
  await record("GET /api/v1/events", (d) => listAuditEvents(d, { organizationId, limit: 50 }));
  // Filtered: a type or outcome the organization's history rarely holds, the worst case.
  await record("GET /api/v1/events?type=connection.updated", (d) =>
    listAuditEvents(d, { organizationId, limit: 50, type: "connection.updated" }),
  );
  await record("GET /api/v1/events?outcome=failure", (d) =>
    listAuditEvents(d, { organizationId, limit: 50, outcome: "failure" }),
  );
  await record("GET /api/v1/events deep", (d) =>
    listAuditEvents(d, {
      organizationId,
      limit: 50,
      before: now - 80 * 86400000,
      beforeId: "ffffffff-ffff-ffff-ffff-ffffffffffff",
    }),
  );
  const client = new pg.Client({ connectionString: ctx.config.databaseUrl });
  await client.connect();
  const out: string[] = [];
  try {
    for (const [label, query] of captured) {
      await client.query("begin");
      try {
        const { rows } = await client.query<{ "QUERY PLAN": string }>(
          `explain (analyze, costs off, timing off, summary on) ${query.sql}`,
          [...query.parameters],
        );
        out.push(`${label}: ${query.sql.replace(/\s+/g, " ").slice(0, 140)}…`);
        for (const row of rows) out.push(`    ${row["QUERY PLAN"]}`);
      } finally {
        await client.query("rollback");
      }
    }
  } finally {
    await client.end();
  }
  return out;
}

main().then(
  () => undefined,
  async (error: unknown) => {
    process.stderr.write(`data-size: ${error instanceof Error ? error.stack : String(error)}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
