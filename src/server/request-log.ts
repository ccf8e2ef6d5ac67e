import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { pathOnly } from "./log.js";

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
 * handlers noted. At `debug`, a line when the request arrives, too.
 */
export function registerRequestLog(app: FastifyInstance, log: Logger): void {
  // The plain line holds only values this hook computes (no header, query or body), so it skips
  // redaction, which costs more than the rest of the line; a line with a handler's note keeps it.
  const plain = log.child({}, { redact: [] });
  app.addHook("onRequest", (request, _reply, done) => {
    if (log.isLevelEnabled("debug")) request.log.debug({ req: request }, "incoming request");
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const note = notes.get(request);
    if (!note) {
      if (log.isLevelEnabled("info")) {
        plain.info(
          {
            reqId: request.id,
            method: request.method,
            path: pathOnly(request.url),
            status: reply.statusCode,
            ms: Math.round(reply.elapsedTime * 10) / 10,
          },
          "request",
        );
      }
      done();
      return;
    }
    const level = note.level;
    if (log.isLevelEnabled(level)) {
      request.log[level](
        {
          method: request.method,
          path: pathOnly(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          ...note.fields,
        },
        "request",
      );
    }
    done();
  });
}
