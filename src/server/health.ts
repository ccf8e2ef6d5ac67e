import type { FastifyInstance, FastifyReply } from "fastify";
import { safeEqual } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import { pendingMigrations, pingDatabase } from "../store/database.js";
import type { AppContext } from "./context.js";

type Check = "database" | "migrations" | "draining";

/** How long a passed migration check is trusted by /readyz before the table is read again. */
export const MIGRATIONS_RECHECK_MS = 30_000;

/**
 * Liveness and readiness, kept apart: a liveness probe that looked at the database would have
 * an orchestrator restart every instance during a database outage, which cures nothing. Only
 * readiness takes the instance out of the load balancer.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  // Migrations are read again at most every MIGRATIONS_RECHECK_MS while they pass, and at every
  // probe while they fail: an instance started on an up-to-date database can still lose one
  // (a restore from an older backup, a failover to a replica that is behind), and a probe that
  // reads the migration table each time would cost more than the probe itself.
  let migrationsPassedAt: number | undefined;

  /** The process answers: nothing else is checked. */
  app.get("/livez", async (_request, reply) =>
    reply.header("cache-control", "no-store").send({ status: "ok" }),
  );

  const readiness = async (_request: unknown, reply: FastifyReply) => {
    reply.header("cache-control", "no-store");
    const unavailable = (failed: Check, detail?: string) =>
      reply
        .status(503)
        .send({ status: "unavailable", failed, database: ctx.store.dialect, ...(detail ? { detail } : {}) });
    // First, so that a load balancer stops sending traffic before the listener closes.
    if (ctx.lifecycle.draining) return unavailable("draining");
    try {
      await pingDatabase(ctx.store);
    } catch (error) {
      ctx.log.error({ err: error }, "readiness: database unreachable");
      return unavailable("database");
    }
    const now = ctx.now();
    if (migrationsPassedAt === undefined || now - migrationsPassedAt >= MIGRATIONS_RECHECK_MS) {
      migrationsPassedAt = undefined;
      try {
        const pending = await pendingMigrations(ctx.store);
        if (pending.length > 0) return unavailable("migrations", `pending: ${pending.join(", ")}`);
        migrationsPassedAt = now;
      } catch (error) {
        ctx.log.error({ err: error }, "readiness: cannot read the applied migrations");
        return unavailable("migrations");
      }
    }
    return reply.send({ status: "ok", database: ctx.store.dialect });
  };
  app.get("/readyz", readiness);
  // Kept for existing load balancers: the same as readiness.
  app.get("/healthz", readiness);

  // Metrics name routes, counts and timings that help an attacker as much as an operator, so
  // they are served only with GATEHOUSE_METRICS_TOKEN as a bearer token; without one they are off.
  app.get("/metrics", async (request, reply) => {
    const token = ctx.config.metricsToken;
    if (token === undefined) throw new GatehouseError("NOT_FOUND", "Not found");
    const header = request.headers.authorization ?? "";
    const presented = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (presented === undefined || !safeEqual(presented, token)) {
      reply.header("www-authenticate", 'Bearer realm="metrics"');
      throw new GatehouseError("AUTH_UNAUTHENTICATED", "A valid metrics token is required.");
    }
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
