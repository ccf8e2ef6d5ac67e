import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type SqliteDatabase from "better-sqlite3";

// The worker's whole program: its own connection to the file, a passive checkpoint each tick.
// Passive: it copies what no reader still needs and never waits for or blocks a writer.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 1000");
const checkpoint = db.prepare("pragma wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try { checkpoint.get(); } catch (error) { parentPort.postMessage({ error: String(error) }); }
}, workerData.intervalMs);
parentPort.on("message", () => { clearInterval(timer); db.close(); process.exit(0); });
`;

export interface Checkpoints {
  stop(): Promise<void>;
}

/**
 * SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: copying
 * the WAL back into the database and syncing it, on the event loop, in the middle of a
 * request. A worker thread with its own connection checkpoints instead, every `intervalMs`,
 * and the connection that serves requests only does it itself as a backstop, when the WAL
 * has grown ten times past the usual point (the worker stopped, or cannot keep up).
 */
export function checkpointInWorker(
  sqlite: SqliteDatabase.Database,
  file: string,
  intervalMs = 1000,
): Checkpoints {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  sqlite.pragma("wal_autocheckpoint = 10000");
  worker.on("error", () => undefined);
  return {
    async stop() {
      // The worker closes its connection itself; terminate() is the backstop.
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.ref();
      worker.postMessage("stop");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
