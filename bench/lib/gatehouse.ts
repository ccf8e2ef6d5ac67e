import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import pino from "pino";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { loadConfig } from "../../src/config.js";
import { createConnection } from "../../src/connections/create.js";
import { hashToken, randomToken } from "../../src/crypto/tokens.js";
import { addDomain } from "../../src/domains/add.js";
import type { AppContext } from "../../src/server/context.js";
import { createContext } from "../../src/server/context-factory.js";
import { insertSession } from "../../src/store/sessions.js";
import { type StartedChild, startChild } from "./children.js";
import { get, keepAlivePool } from "./client.js";

/** /metrics answers only with this bearer token (GATEHOUSE_METRICS_TOKEN). */
export const BENCH_METRICS_TOKEN = "bench-metrics-token-0123456789abcdef";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const RESULTS = path.join(ROOT, "bench/results");
const BUILD = path.join(RESULTS, "build");

/**
 * Gatehouse compiled into bench/results/build/dist: a private copy, so that the benchmark
 * neither depends on nor disturbs the dist/ others use, and measures the src/ of this moment.
 * Rebuilt only when a file under src/ is newer than the last build. tsc emits even when another
 * file has a type error in flight; the errors are returned as a warning. The soak builds into
 * a folder of its own, so that it and the benchmark can run at the same time.
 */
export function buildGatehouse(buildDir = BUILD): {
  main: string;
  rebuilt: boolean;
  warning?: string;
  seconds: number;
} {
  const main = path.join(buildDir, "dist/main.js");
  const stamp = path.join(buildDir, ".built");
  const began = performance.now();
  if (existsSync(stamp) && existsSync(main) && newestSource() <= statSync(stamp).mtimeMs) {
    return { main, rebuilt: false, seconds: 0 };
  }
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  // The app serves ../../public relative to dist/server/app.js.
  symlinkSync(path.join(ROOT, "public"), path.join(buildDir, "public"));
  const startedAt = Date.now();
  const tsc = spawnSync(
    process.execPath,
    [
      path.join(ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      path.join(buildDir, "dist"),
      "--sourceMap",
      "false",
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (!existsSync(main)) throw new Error(`tsc produced no ${main}:\n${tsc.stdout}${tsc.stderr}`);
  writeFileSync(stamp, "");
  // Stamped with the start time: a file saved during the build makes the next run rebuild.
  utimesSync(stamp, startedAt / 1000, startedAt / 1000);
  const seconds = (performance.now() - began) / 1000;
  if (tsc.status !== 0) {
    const first = `${tsc.stdout}${tsc.stderr}`.trim().split("\n").slice(0, 5).join("\n");
    return { main, rebuilt: true, warning: `tsc reported errors (emitted anyway):\n${first}`, seconds };
  }
  return { main, rebuilt: true, seconds };
}

function newestSource(): number {
  let newest = 0;
  for (const entry of readdirSync(path.join(ROOT, "src"), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  for (const file of ["tsconfig.json", "tsconfig.build.json", "package.json"]) {
    newest = Math.max(newest, statSync(path.join(ROOT, file)).mtimeMs);
  }
  return newest;
}

export interface Seeded {
  ctx: AppContext;
  organizationId: string;
  connectionId: string;
  /** The organization's owner, who signs in with a password. */
  adminUserId: string;
}

/** The environment shared by the set-up context and the Gatehouse process: same key, same database. */
export function gatehouseEnv(options: {
  databaseUrl: string;
  secretKey: string;
  port: number;
}): Record<string, string> {
  return {
    GATEHOUSE_BASE_URL: `http://127.0.0.1:${options.port}/`,
    HOST: "127.0.0.1",
    PORT: String(options.port),
    GATEHOUSE_DATABASE_URL: options.databaseUrl,
    GATEHOUSE_SECRET_KEY: options.secretKey,
    GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1",
    GATEHOUSE_METRICS_TOKEN: BENCH_METRICS_TOKEN,
    // What a user runs: the default level, one line per request.
    LOG_LEVEL: "info",
    // Every virtual browser comes from 127.0.0.1: the per-IP limit on sign-in flows (60 a minute)
    // is raised to its maximum so that it never refuses, but it is still counted on every step.
    GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "1000000",
    // Likewise the sign-ins one address may start within 10 minutes (100 by default).
    GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "10000000",
  };
}

/** One organization and one connection to the fast OP, created in-process on the same database. */
export async function seed(
  env: Record<string, string>,
  op: { issuer: string; clientId: string; clientSecret: string },
): Promise<Seeded> {
  const ctx = await createContext(loadConfig(env), { log: pino({ level: "silent" }) });
  const { organization, adminUserId } = await createOrganizationWithAdmin(ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: "admin@acme.test",
    adminPassword: `bench-${randomToken(12)}`,
  });
  await addDomain(ctx, { organizationId: organization.id, actorUserId: null }, "acme.test", {
    operatorVerified: true,
  });
  const { connection } = await createConnection(ctx, {
    organizationId: organization.id,
    input: {
      name: "Acme fast OP",
      issuer: op.issuer,
      clientId: op.clientId,
      clientSecret: op.clientSecret,
      domains: ["acme.test"],
    },
    actorUserId: adminUserId,
  });
  return { ctx, organizationId: organization.id, connectionId: connection.id, adminUserId };
}

/**
 * Live SSO sessions inserted straight into the store, in transactions of `batch` rows, several
 * at once on PostgreSQL, created (and last used) at `createdAt`. Returns the cookie values; only
 * their hashes are stored.
 */
export async function insertSessions(
  seeded: Seeded,
  userIds: readonly string[],
  count: number,
  parallel: number,
  createdAt = Date.now(),
): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => randomToken());
  const now = createdAt;
  const batch = 1000;
  const batches: number[] = [];
  for (let offset = 0; offset < count; offset += batch) batches.push(offset);
  const worker = async () => {
    for (let offset = batches.shift(); offset !== undefined; offset = batches.shift()) {
      await seeded.ctx.store.db.transaction().execute(async (trx) => {
        for (let i = offset; i < Math.min(count, offset + batch); i++) {
          await insertSession(trx, {
            idHash: hashToken(tokens[i]!),
            userId: userIds[i % userIds.length]!,
            organizationId: seeded.organizationId,
            method: "sso",
            connectionId: seeded.connectionId,
            idTokenSealed: null,
            idpSid: null,
            createdAt: now,
            expiresAt: now + 8 * 3600 * 1000,
          });
        }
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return tokens;
}

export interface GatehouseProcess extends StartedChild {
  url: string;
}

export async function startGatehouse(options: {
  command: string[];
  env: Record<string, string>;
  logFile: string;
  cpuProfileDir?: string | undefined;
}): Promise<GatehouseProcess> {
  const profiling = options.cpuProfileDir
    ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir, "--cpu-prof-name", "gatehouse.cpuprofile"]
    : [];
  const started = await startChild("gatehouse", {
    args: [...profiling, ...options.command, "serve"],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    logFile: options.logFile,
  });
  const url = `http://127.0.0.1:${options.env.PORT}`;
  const pool = keepAlivePool(url, 1);
  // A minute and a half: on a busy machine a cold start takes well over the usual second.
  const deadline = performance.now() + 90_000;
  try {
    for (;;) {
      try {
        const health = await get(pool, "/healthz");
        if (health.status === 200) break;
      } catch {
        // Not listening yet.
      }
      if (started.child.exitCode !== null) {
        throw new Error(`Gatehouse exited with code ${started.child.exitCode}:\n${started.stderrTail()}`);
      }
      if (performance.now() > deadline)
        throw new Error(`Gatehouse not healthy after 90 s:\n${started.stderrTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await started.stop({ graceMs: 1000 });
    throw error;
  } finally {
    await pool.close();
  }
  return { ...started, url };
}
