import type { FastifyInstance } from "fastify";
import { pingDatabase } from "../store/database.js";
import type { AppContext } from "./context.js";

export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/healthz", async (_request, reply) => {
    try {
      await pingDatabase(ctx.store);
      return reply.header("cache-control", "no-store").send({ status: "ok", database: ctx.store.dialect });
    } catch (error) {
      ctx.log.error({ err: error }, "health check: database unreachable");
      return reply
        .status(503)
        .header("cache-control", "no-store")
        .send({ status: "unavailable", database: ctx.store.dialect });
    }
  });

  app.get("/metrics", async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
