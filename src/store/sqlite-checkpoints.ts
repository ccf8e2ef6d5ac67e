import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type SqliteDatabase from "better-sqlite3";

// The worker's whole program: its own connection to the file and a passive checkpoint each
// tick, which copies what no reader still needs and never waits for or blocks a writer. When
// the WAL it has just checkpointed is long (commits that landed while it ran keep the WAL from
// starting over), it asks the main thread for a quiet moment, checkpoints again during it, and
// answers.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const fs = require("node:fs");
const db = new Database(workerData.file);
const databaseFile = fs.openSync(workerData.file, "r");
db.pragma("busy_timeout = 1000");
const checkpoint = db.prepare("pragma wal_checkpoint(PASSIVE)");
const run = () => {
  try { return checkpoint.get(); } catch (error) { parentPort.postMessage({ error: String(error) }); return undefined; }
};
const timer = setInterval(() => {
  const result = run();
  if (result && result.log >= workerData.restartFrames) {
    // What this checkpoint copied is synced now, off the main thread: the one in the quiet
    // moment then syncs only the few pages it copies itself.
    try { fs.fsyncSync(databaseFile); } catch {}
    parentPort.postMessage({ wantsQuiet: true });
  }
}, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (typeof message === "object" && message.quiet) {
    run();
    parentPort.postMessage({ quietDone: message.quiet });
    return;
  }
  clearInterval(timer);
  db.close();
  fs.closeSync(databaseFile);
  process.exit(0);
});
`;

/** A WAL this long (in frames of a page each) is brought to its end in a quiet moment. */
export const RESTART_FRAMES = 4000;
/** SQLite's own automatic checkpoint threshold, restored when the worker is gone. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
/** A quiet moment never lasts longer than this, whatever the worker does. */
const MAX_QUIET_MS = 1000;
/** A checkpoint that keeps failing the same way (a full disk) is reported this often. */
const REPEAT_REPORT_MS = 60_000;

export interface Checkpoints {
  stop(): Promise<void>;
}

export interface CheckpointOptions {
  /** How often the worker checkpoints. */
  intervalMs?: number;
  /** A WAL at least this long (in frames, of a page each) is brought to its end. */
  restartFrames?: number;
  /**
   * Runs `during` while no statement of this process is running, and none starts until it
   * settles (for Kysely: inside `db.connection().execute`, which holds the only connection).
   */
  holdStatements: (during: () => Promise<void>) => Promise<void>;
  /**
   * Told when a checkpoint fails (`repeats`: how many times the same failure was not reported
   * since the last report, at most one a minute) or the worker is gone (`stopped`: the serving
   * connection checkpoints itself from then on).
   */
  onError?: (failure: CheckpointFailure) => void;
}

export interface CheckpointFailure {
  message: string;
  stopped: boolean;
  repeats: number;
}

/**
 * SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: copying
 * the WAL back into the database and syncing both files, on the event loop, in the middle of a
 * request. A worker thread with its own connection checkpoints instead.
 *
 * The WAL starts over from its beginning only after a checkpoint has copied all of it. Under a
 * steady stream of commits the worker's checkpoint never gets there (each commit lands while it
 * runs), so the WAL would grow until a backstop checkpoint ran inside a commit after all
 * (measured: 40 to 100 ms with the event loop blocked, every second or two while sessions'
 * last uses were being written). So when the WAL has grown long, the worker syncs what it
 * copied and this process holds its statements back — asynchronously: requests that need no
 * statement go on — while the worker checkpoints once more, which then copies the few frames
 * left and lets the next commit start the WAL over. The connection that serves requests only
 * checkpoints itself when the worker is gone.
 */
export function checkpointInWorker(
  sqlite: SqliteDatabase.Database,
  file: string,
  options: CheckpointOptions,
): Checkpoints {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      file,
      driver,
      intervalMs: options.intervalMs ?? 1000,
      restartFrames: options.restartFrames ?? RESTART_FRAMES,
    },
  });
  worker.unref();
  // A backstop only: the worker keeps the WAL far shorter than this.
  sqlite.pragma("wal_autocheckpoint = 20000");
  let gone = false;
  let stopping = false;
  let quietCount = 0;
  let quiet: { id: number; end: () => void } | undefined;
  const report = repeatedFailures(Date.now, (message, repeats) =>
    options.onError?.({ message, stopped: false, repeats }),
  );
  const workerGone = (error?: unknown) => {
    if (gone) return;
    gone = true;
    quiet?.end();
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    if (!stopping) {
      const message = error instanceof Error ? error.message : "the checkpoint worker exited";
      options.onError?.({ message, stopped: true, repeats: 0 });
    }
  };
  worker.on("error", workerGone);
  worker.on("exit", () => workerGone());
  worker.on("message", (message: { wantsQuiet?: boolean; quietDone?: number; error?: string }) => {
    if (message.error !== undefined) report(message.error);
    if (message.quietDone !== undefined && quiet?.id === message.quietDone) quiet.end();
    if (!message.wantsQuiet || quiet || gone) return;
    const id = ++quietCount;
    let end: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    quiet = { id, end };
    options
      .holdStatements(() => {
        if (gone) return Promise.resolve();
        worker.postMessage({ quiet: id });
        const timer = setTimeout(end, MAX_QUIET_MS);
        return ended.finally(() => clearTimeout(timer));
      })
      .catch(() => undefined)
      .finally(() => {
        if (quiet?.id === id) quiet = undefined;
      });
  });
  return {
    async stop() {
      // The worker closes its connection itself; terminate() is the backstop.
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      stopping = true;
      quiet?.end();
      worker.ref();
      worker.postMessage("stop");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}

/**
 * A failure is told at once; the same failure again is counted and told at most once per
 * REPEAT_REPORT_MS, with how many times it was not told since. A different one is told at once.
 */
export function repeatedFailures(
  now: () => number,
  tell: (message: string, repeats: number) => void,
): (message: string) => void {
  let last: { message: string; at: number; repeats: number } | undefined;
  return (message) => {
    const at = now();
    if (last?.message === message && at - last.at < REPEAT_REPORT_MS) {
      last.repeats += 1;
      return;
    }
    const repeats = last?.message === message ? last.repeats : 0;
    last = { message, at, repeats: 0 };
    tell(message, repeats);
  };
}
