import type { Pool } from "undici";
import { BENCH_METRICS_TOKEN } from "./gatehouse.js";

/** Statements Gatehouse has sent to its database so far, by kind, from its /metrics. */
export async function statementCounts(pool: Pool): Promise<Map<string, number>> {
  const response = await pool.request({
    method: "GET",
    path: "/metrics",
    headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
  });
  const text = await response.body.text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^gatehouse_db_statements_total\{statement="([^"]+)"\} (\d+)/gm)) {
    counts.set(match[1] as string, Number(match[2]));
  }
  return counts;
}

/** Statements per operation between two readings, by kind, largest first. */
export function statementsPerOp(
  before: Map<string, number>,
  after: Map<string, number>,
  operations: number,
): Record<string, number> {
  const out: [string, number][] = [];
  for (const [kind, count] of after) {
    const per = (count - (before.get(kind) ?? 0)) / Math.max(operations, 1);
    if (per >= 0.005) out.push([kind, Math.round(per * 100) / 100]);
  }
  out.sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(out);
}

export function totalOf(perOp: Record<string, number> | undefined): number {
  return perOp ? Object.values(perOp).reduce((n, v) => n + v, 0) : Number.NaN;
}
