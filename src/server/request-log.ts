import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { pathOnly } from "./log.js";
import type { Metrics } from "./metrics.js";

type Level = "info" | "warn" | "error";
const notes = new WeakMap<FastifyRequest, { level: Level; fields: Record<string, unknown> }>();

/**
 * Adds fields (an error code, a trace id, an error) to the request's one log line instead of
 * writing a line of its own; `level` raises the line's level, never lowers it.
 */
export function noteOnRequestLine(
  request: FastifyRequest,
  fields: Record<string, unknown>,
  level: Level = "info",
) {
  const note = notes.get(request);
  if (!note) {
    notes.set(request, { level, fields });
    return;
  }
  Object.assign(note.fields, fields);
  if (rank(level) > rank(note.level)) note.level = level;
}

function rank(level: Level): number {
  return level === "error" ? 2 : level === "warn" ? 1 : 0;
}

/**
 * One line per request when it completes: method, path without the query (it carries codes,
 * states and emails), status, duration in milliseconds and the request id, plus what the
 * handlers noted; and the request's two metrics. At `debug`, a line when the request arrives,
 * too. One hook, with a callback rather than a promise: it runs on every request.
 */
export function registerRequestLog(
  app: FastifyInstance,
  log: Logger,
  metrics: Pick<Metrics, "httpRequests" | "httpDuration">,
): void {
  // The plain line holds only values this hook computes (no header, query or body), so it skips
  // redaction, which costs more than the rest of the line; a line with a handler's note keeps it.
  const plain = log.child({}, { redact: [] });
  if (log.isLevelEnabled("debug")) {
    app.addHook("onRequest", (request, _reply, done) => {
      request.log.debug({ req: request }, "incoming request");
      done();
    });
  }
  app.addHook("onResponse", (request, reply, done) => {
    const method = request.method;
    const status = reply.statusCode;
    const elapsed = reply.elapsedTime;
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequests.inc({ method, route, status: String(status) });
    metrics.httpDuration.observe({ method, route }, elapsed / 1000);

    const note = notes.get(request);
    const level = note?.level ?? "info";
    if (!log.isLevelEnabled(level)) {
      done();
      return;
    }
    const path = pathOnly(request.url);
    const ms = Math.round(elapsed * 10) / 10;
    if (note) request.log[level]({ method, path, status, ms, ...note.fields }, "request");
    else plain.info({ reqId: request.id, method, path, status, ms }, "request");
    done();
  });
}
