import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route">;
  signIns: Counter<"method" | "outcome">;
  idpRequests: Histogram<"outcome">;
  /** Counts a statement sent to the database under its kind ("select sessions", "commit"). */
  countStatement(sql: string): void;
}

const shapes = new Map<string, string>();
const SHAPE = /^\s*(select|insert into|update|delete from|with|begin|commit|rollback|savepoint|release)\b/i;
const TABLE = /\b(?:from|into|update)\s+"?([a-z_]+)"?/i;

/** "select sessions", "insert into audit_events", "commit": a bounded label for a statement. */
export function statementKind(sql: string): string {
  let shape = shapes.get(sql);
  if (shape === undefined) {
    const verb = SHAPE.exec(sql)?.[1]?.toLowerCase() ?? "other";
    const table =
      verb === "begin" || verb === "commit" || verb === "rollback" ? undefined : TABLE.exec(sql)?.[1];
    shape = table ? `${verb} ${table}` : verb;
    if (shapes.size < 2000) shapes.set(sql, shape);
  }
  return shape;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gatehouse_" });
  const statements = new Counter({
    name: "gatehouse_db_statements_total",
    help: "Statements sent to the database (each one a round trip), by kind",
    labelNames: ["statement"],
    registers: [registry],
  });
  return {
    registry,
    countStatement: (sql) => statements.inc({ statement: statementKind(sql) }),
    httpRequests: new Counter({
      name: "gatehouse_http_requests_total",
      help: "HTTP requests by method, route pattern and status code",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "gatehouse_http_request_duration_seconds",
      help: "HTTP request latency by method and route pattern",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    idpRequests: new Histogram({
      name: "gatehouse_idp_request_duration_seconds",
      help: "Requests to identity providers (discovery, keys, token, userinfo) until their answer was read, by outcome: answered (any HTTP status) or failed (no answer in time, refused or unreachable)",
      labelNames: ["outcome"],
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    signIns: new Counter({
      name: "gatehouse_sign_ins_total",
      help: "Sign-in attempts by method (password, sso, linkedin) and outcome (success, failure)",
      labelNames: ["method", "outcome"],
      registers: [registry],
    }),
  };
}
