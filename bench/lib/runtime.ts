import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Pool } from "undici";
import { BENCH_METRICS_TOKEN } from "./gatehouse.js";

/** Gatehouse's garbage collections so far, by kind, from its /metrics (prom-client's defaults). */
export interface RuntimeReading {
  gc: Map<string, { count: number; seconds: number; over10ms: number }>;
  /**
   * How long the event loop was blocked (delay beyond prom-client's 10 ms sampling interval)
   * since the previous reading of /metrics, which resets it; in ms.
   */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Requests to the identity provider answered so far, cumulative per bucket bound (seconds). */
  idpAnswered: Map<number, number>;
}

/** What a phase cost the runtime: pauses that make tails, and how late the event loop ran. */
export interface RuntimeDelta {
  /** Collections by kind during the phase: count, total ms, and how many paused 10 ms or more. */
  gc: Record<string, { count: number; ms: number; over10ms: number }>;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /**
   * The identity provider's answers during the phase as Gatehouse timed them: how many, and the
   * bucket bounds (ms) within which half and 99 % of them came (undefined when none).
   */
  idp: { requests: number; p50Ms: number | undefined; p99Ms: number | undefined };
}

/** prom-client samples the event loop with a timer this often; a delay of exactly this is none. */
const LOOP_SAMPLING_MS = 10;

const IDP_BUCKET =
  /^gatehouse_idp_request_duration_seconds_bucket\{le="([^"]+)",outcome="answered"\} (\d+)$/gm;

const GC_LINE = /^gatehouse_nodejs_gc_duration_seconds_(count|sum|bucket)\{([^}]*)\} ([\d.e+-]+)$/gm;

/**
 * One reading of /metrics. Reading it resets prom-client's event-loop delay histogram, so a
 * reading right before a phase and one right after it give that phase's delays.
 */
export async function runtimeReading(pool: Pool): Promise<RuntimeReading> {
  const response = await pool.request({
    method: "GET",
    path: "/metrics",
    headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
  });
  const text = await response.body.text();
  const gc = new Map<string, { count: number; seconds: number; over10ms: number }>();
  const under10ms = new Map<string, number>();
  for (const [, part, labels = "", value] of text.matchAll(GC_LINE)) {
    const kind = /kind="([^"]+)"/.exec(labels)?.[1];
    if (!kind) continue;
    const entry = gc.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 };
    if (part === "count") entry.count = Number(value);
    else if (part === "sum") entry.seconds = Number(value);
    else if (/le="0\.01"/.test(labels)) under10ms.set(kind, Number(value));
    gc.set(kind, entry);
  }
  for (const [kind, entry] of gc) entry.over10ms = entry.count - (under10ms.get(kind) ?? entry.count);
  const gauge = (name: string) => {
    const match = new RegExp(`^gatehouse_nodejs_eventloop_lag_${name}_seconds ([\\d.e+-]+)$`, "m").exec(text);
    return match ? Math.max(0, Number(match[1]) * 1000 - LOOP_SAMPLING_MS) : Number.NaN;
  };
  const idpAnswered = new Map<number, number>();
  for (const [, le = "", count] of text.matchAll(IDP_BUCKET)) {
    idpAnswered.set(le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), Number(count));
  }
  return { gc, loopDelayP99Ms: gauge("p99"), loopDelayMaxMs: gauge("max"), idpAnswered };
}

export function runtimeDelta(before: RuntimeReading, after: RuntimeReading): RuntimeDelta {
  const gc: RuntimeDelta["gc"] = {};
  for (const [kind, entry] of after.gc) {
    const earlier = before.gc.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 };
    const count = entry.count - earlier.count;
    if (count > 0) {
      gc[kind] = {
        count,
        ms: (entry.seconds - earlier.seconds) * 1000,
        over10ms: entry.over10ms - earlier.over10ms,
      };
    }
  }
  return {
    gc,
    loopDelayP99Ms: after.loopDelayP99Ms,
    loopDelayMaxMs: after.loopDelayMaxMs,
    idp: bucketQuantiles(before.idpAnswered, after.idpAnswered),
  };
}

/** From two readings of a cumulative histogram: the phase's count and its p50 / p99 buckets. */
function bucketQuantiles(before: Map<number, number>, after: Map<number, number>): RuntimeDelta["idp"] {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const inPhase = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const requests = inPhase[inPhase.length - 1] ?? 0;
  const bound = (q: number) => {
    if (requests === 0) return undefined;
    const index = inPhase.findIndex((count) => count >= q * requests);
    return (bounds[index] ?? Number.POSITIVE_INFINITY) * 1000;
  };
  return { requests, p50Ms: bound(0.5), p99Ms: bound(0.99) };
}

/**
 * The bench's own event loop while `run` runs: a client that is late sends late and measures
 * late, which shows up as Gatehouse's latency. Same units as Gatehouse's (ms blocked).
 */
export async function clientLoopDelay<T>(
  run: () => Promise<T>,
): Promise<{ result: T; loopDelayP99Ms: number; loopDelayMaxMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_SAMPLING_MS });
  histogram.enable();
  try {
    const result = await run();
    return {
      result,
      loopDelayP99Ms: Math.max(0, histogram.percentile(99) / 1e6 - LOOP_SAMPLING_MS),
      loopDelayMaxMs: Math.max(0, histogram.max / 1e6 - LOOP_SAMPLING_MS),
    };
  } finally {
    histogram.disable();
  }
}
