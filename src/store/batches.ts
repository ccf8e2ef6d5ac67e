import { setImmediate as yieldToRequests } from "node:timers/promises";

/** Rows one purge statement deletes at most: a short transaction that holds few locks. */
export const PURGE_BATCH = 2000;

/**
 * Runs `deleteBatch` until it deletes fewer than a batch, yielding to waiting requests between
 * batches. A purge of millions of rows is then many short statements that sign-ins slip
 * between, never one that holds locks, a pool connection or SQLite's writer for seconds.
 */
export async function inBatches(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBatch(PURGE_BATCH);
    total += deleted;
    if (deleted < PURGE_BATCH) return total;
    await yieldToRequests();
  }
}
