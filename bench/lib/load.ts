/**
 * The two ways the benchmark loads a server, both bounded in count and in time:
 * closed loop (N workers, each starting its next operation when the last one ends: the maximum
 * rate) and open loop (operations started on a fixed schedule whatever the server does: the
 * latency at a given rate).
 */

/** One operation; `i` is its sequence number in the phase. Resolves to the latency to record. */
export type Operation = (i: number) => Promise<number>;

export interface LoadResult {
  completed: number;
  errors: number;
  elapsedMs: number;
  /** Completed operations per second. */
  rate: number;
  latencies: number[];
  errorSamples: string[];
  /** Open loop: operations not started because too many were already in flight. */
  skipped: number;
  /** Open loop: the rate asked for. */
  targetRate?: number;
}

export interface Bounds {
  maxCount: number;
  maxMs: number;
  signal: AbortSignal;
}

/** A phase gives up when this many operations fail: something is broken, not slow. */
function errorBudget(count: number): number {
  return Math.max(20, Math.floor(count * 0.02));
}

function recordError(result: LoadResult, error: unknown): void {
  result.errors++;
  const text = error instanceof Error ? error.message : String(error);
  if (result.errorSamples.length < 5 && !result.errorSamples.includes(text)) result.errorSamples.push(text);
}

function emptyResult(): LoadResult {
  return { completed: 0, errors: 0, elapsedMs: 0, rate: 0, latencies: [], errorSamples: [], skipped: 0 };
}

export async function closedLoop(concurrency: number, bounds: Bounds, op: Operation): Promise<LoadResult> {
  const result = emptyResult();
  const began = performance.now();
  const deadline = began + bounds.maxMs;
  let started = 0;
  const worker = async () => {
    while (
      started < bounds.maxCount &&
      performance.now() < deadline &&
      !bounds.signal.aborted &&
      result.errors < errorBudget(started)
    ) {
      const i = started++;
      try {
        result.latencies.push(await op(i));
        result.completed++;
      } catch (error) {
        recordError(result, error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  result.elapsedMs = performance.now() - began;
  result.rate = (result.completed / result.elapsedMs) * 1000;
  return result;
}

export async function openLoop(
  ratePerSecond: number,
  maxInFlight: number,
  bounds: Bounds,
  op: Operation,
): Promise<LoadResult> {
  const result = emptyResult();
  result.targetRate = ratePerSecond;
  const began = performance.now();
  let scheduled = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  while (
    scheduled < bounds.maxCount &&
    !bounds.signal.aborted &&
    result.errors < errorBudget(scheduled) &&
    performance.now() - began < bounds.maxMs
  ) {
    const due = Math.min(bounds.maxCount, Math.floor(((performance.now() - began) / 1000) * ratePerSecond));
    while (scheduled < due) {
      const i = scheduled++;
      if (inFlight >= maxInFlight) {
        result.skipped++;
        continue;
      }
      inFlight++;
      const run: Promise<void> = op(i).then(
        (latency) => {
          result.latencies.push(latency);
          result.completed++;
        },
        (error: unknown) => recordError(result, error),
      );
      const tracked = run.finally(() => {
        inFlight--;
        pending.delete(tracked);
      });
      pending.add(tracked);
    }
    // Timers fire every millisecond at best: each tick starts all the operations that fell due.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  result.elapsedMs = performance.now() - began;
  result.rate = (result.completed / result.elapsedMs) * 1000;
  return result;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0)
    return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, p999: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[sorted.length - 1]! };
}
