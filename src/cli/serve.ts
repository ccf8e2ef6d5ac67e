import type { FastifyInstance } from "fastify";
import { type Config, ConfigError, checkServeConfig, loadConfig } from "../config.js";
import { buildApp } from "../server/app.js";
import { createContext } from "../server/context-factory.js";
import { startMaintenance } from "../server/maintenance.js";
import { help, parseOptions } from "./options.js";

const SERVE_USAGE = `Usage: gatehouse serve

Runs Gatehouse, configured by environment variables (see docs/configuration.md):
GATEHOUSE_BASE_URL, PORT, HOST, GATEHOUSE_DATABASE_URL, GATEHOUSE_SECRET_KEY, LOG_LEVEL, ...
`;

export async function runServe(args: string[]): Promise<number> {
  const values = parseOptions(args, {});
  if (values.help) return help(SERVE_USAGE);
  const config = loadConfig();
  checkServeConfig(config);
  const ctx = await createContext(config);
  // A start that fails closes what it opened: SQLite's checkpoint worker or PostgreSQL's pool
  // would otherwise keep a process that serves nothing alive, and a supervisor would think it up.
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp(ctx);
    closeKeepAliveOnShutdown(app);
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app?.close().catch(() => undefined);
    await ctx.store.close().catch(() => undefined);
    throw listenError(config, error);
  }
  const server = app;
  const stopMaintenance = startMaintenance(ctx);
  ctx.log.info({ baseUrl: config.baseUrl.toString(), database: ctx.store.dialect }, "Gatehouse is listening");
  await waitForShutdown(async () => {
    // Readiness answers 503 first, so the load balancer stops sending new requests while the
    // listener still accepts them; then close() stops accepting and waits for those in flight.
    ctx.lifecycle.draining = true;
    if (config.shutdownDelaySeconds > 0) {
      ctx.log.info(
        { seconds: config.shutdownDelaySeconds },
        "draining: /readyz answers 503 until the listener closes",
      );
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelaySeconds * 1000));
    }
    stopMaintenance();
    await server.close();
    await ctx.store.close();
  });
  return 0;
}

/** A listen failure that HOST or PORT explains names them, as any other bad setting does. */
function listenError(config: Config, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EADDRNOTAVAIL") {
    return new ConfigError(`HOST: cannot listen on "${config.host}" (${code})`, { cause: error });
  }
  if (code === "EADDRINUSE" || code === "EACCES") {
    return new ConfigError(`PORT: cannot listen on ${config.host}:${config.port} (${code})`, {
      cause: error,
    });
  }
  return error;
}

/**
 * Answers sent once shutdown has begun carry `Connection: close`. Fastify closes the keep-alive
 * connections that are idle when it starts closing, but a connection whose request was still in
 * flight would otherwise stay open after its answer, until the keep-alive timeout (72 s), and
 * hold the process up long after its last request.
 */
function closeKeepAliveOnShutdown(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
}

export function waitForShutdown(onSignal: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const handler = () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      onSignal().then(resolve, (error: unknown) => {
        process.stderr.write(`gatehouse: shutdown failed: ${String(error)}\n`);
        resolve();
      });
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
