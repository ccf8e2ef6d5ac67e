import { clientNetwork } from "../domain/client-network.js";
import type { AppContext } from "../server/context.js";
import { hitRateLimit } from "../store/rate-limits.js";

const WINDOW_MS = 15 * 60_000;

/**
 * Whether to write an audit row for a refused, unauthenticated request (a rate-limited
 * password attempt or callback). The first refusal per address and kind in each 15-minute
 * window is recorded; the rest only raise a counter in one row, so a flood of refused
 * requests cannot grow the database. `/metrics` still counts every one.
 */
export async function shouldRecordRefusal(ctx: AppContext, ip: string, kind: string): Promise<boolean> {
  const { count } = await hitRateLimit(
    ctx.store.db,
    `refused:${kind}:${clientNetwork(ip)}`,
    WINDOW_MS,
    ctx.now(),
  );
  return count === 1;
}
