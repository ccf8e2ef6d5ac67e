import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route">;
  signIns: Counter<"method" | "outcome">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gatehouse_" });
  return {
    registry,
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
    signIns: new Counter({
      name: "gatehouse_sign_ins_total",
      help: "Sign-in attempts by method (password, sso, linkedin) and outcome (success, failure)",
      labelNames: ["method", "outcome"],
      registers: [registry],
    }),
  };
}
