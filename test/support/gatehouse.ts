import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { loadConfig } from "../../src/config.js";
import { type BuildOptions, buildApp } from "../../src/server/app.js";
import type { AppContext } from "../../src/server/context.js";
import { createContext } from "../../src/server/context-factory.js";
import { createLogger } from "../../src/server/log.js";
import { testDatabases } from "./databases.js";

/** `/metrics` answers only with this bearer token (`GATEHOUSE_METRICS_TOKEN`). */
export const TEST_METRICS_TOKEN = "test-metrics-token-0123456789abcdef";
export const metricsHeaders = { authorization: `Bearer ${TEST_METRICS_TOKEN}` };

export interface TestGatehouse {
  url: string;
  ctx: AppContext;
  app: FastifyInstance;
  /** Every log line written during the test, for secret-leak assertions. */
  logs: string[];
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** A database URL; defaults to a fresh SQLite file in a temporary folder. */
  databaseUrl?: string;
  /** Use a fixed port (for the browser tests); 0 picks one. */
  port?: number;
  /** Passed to buildApp: told of every route registered. */
  onRoute?: BuildOptions["onRoute"];
  /** Passed to buildApp: more routes. */
  routes?: BuildOptions["routes"];
}

export async function freePort(): Promise<number> {
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

/**
 * `GATEHOUSE_TEST_DATABASE=postgres` runs every app-level test on its own PostgreSQL schema
 * (from `GATEHOUSE_TEST_POSTGRES_URL`) instead of a SQLite file; CI runs the suite both ways.
 */
async function defaultDatabase(
  dir: string,
): Promise<{ url: string; env: Record<string, string>; drop(): Promise<void> }> {
  if (process.env.GATEHOUSE_TEST_DATABASE !== "postgres") {
    return { url: `sqlite:${path.join(dir, "gatehouse.db")}`, env: {}, drop: async () => undefined };
  }
  const postgres = testDatabases().find((d) => d.name === "postgres");
  if (!postgres) throw new Error("GATEHOUSE_TEST_DATABASE=postgres needs GATEHOUSE_TEST_POSTGRES_URL");
  // Left unmigrated: createContext migrates, as a real start-up does. Its idle pool holds no connection.
  return postgres.create({ migrate: false });
}

export async function startGatehouse(options: StartOptions = {}): Promise<TestGatehouse> {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-test-"));
  const port = options.port || (await freePort());
  const database = options.databaseUrl ? undefined : await defaultDatabase(dir);
  const config = loadConfig({
    GATEHOUSE_BASE_URL: `http://localhost:${port}`,
    GATEHOUSE_DATABASE_URL: options.databaseUrl ?? database?.url,
    GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1",
    PORT: String(port),
    LOG_LEVEL: "debug",
    GATEHOUSE_METRICS_TOKEN: TEST_METRICS_TOKEN,
    ...database?.env,
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  let offset = 0;
  const ctx = await createContext(config, {
    log: createLogger("debug", sink),
    now: () => Date.now() + offset,
  });
  const app = await buildApp(ctx, {
    ...(options.onRoute ? { onRoute: options.onRoute } : {}),
    ...(options.routes ? { routes: options.routes } : {}),
  });
  await app.listen({ port, host: "127.0.0.1" });
  return {
    url: `http://localhost:${port}`,
    ctx,
    app,
    logs,
    advance(ms) {
      offset += ms;
    },
    async close() {
      await app.close();
      await ctx.store.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
