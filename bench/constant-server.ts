import Fastify from "fastify";

/**
 * The reference for per-request cost: a bare Fastify route that returns a constant, with no
 * plugins and no logger, in its own process. Prints `{"ready":true,"port":...}` once listening.
 */
const app = Fastify({ logger: false });
app.get("/constant", async () => ({ ok: true }));
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
const port = typeof address === "object" && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);

const shutdown = () => {
  void app.close();
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
