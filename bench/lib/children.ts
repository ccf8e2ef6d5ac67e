import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

/**
 * Every process the bench starts, so that none outlives it: on a normal end, on an error and on
 * Ctrl+C each is stopped by its own pid, and the exit hook kills whatever is left.
 */
const running = new Set<ChildProcess>();

process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export interface StartedChild {
  child: ChildProcess;
  pid: number;
  /** The first JSON line the child printed on stdout (its "ready" message). */
  ready: Record<string, unknown>;
  /** The next JSON line the child prints on stdout. */
  nextMessage(timeoutMs: number): Promise<Record<string, unknown>>;
  /** The last lines of stderr, for error messages. */
  stderrTail: () => string;
  stop(options?: { graceMs?: number }): Promise<number | null>;
}

export interface SpawnOptions {
  args: string[];
  env?: Record<string, string | undefined>;
  /** Also copy stdout and stderr to this file. */
  logFile?: string;
  /** Wait for a JSON line on stdout; without it the child is ready once spawned. */
  waitForJsonLine?: boolean;
  readyTimeoutMs?: number;
}

export async function startChild(name: string, options: SpawnOptions): Promise<StartedChild> {
  const child = spawn(process.execPath, options.args, {
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  // A fresh clone has no bench/results/ yet; every bench script may be the first one run.
  if (options.logFile) mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = options.logFile ? createWriteStream(options.logFile) : undefined;
  const tail: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    log?.write(chunk);
    tail.push(chunk.toString());
    if (tail.length > 40) tail.shift();
  });
  // JSON lines on stdout are the child's messages to the bench; anything else only goes to the log.
  const messages: Record<string, unknown>[] = [];
  const waiters: Array<(message: Record<string, unknown> | undefined) => void> = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => {
    log?.write(`${line}\n`);
    // Only a child that speaks in messages is listened to: Gatehouse's log lines are JSON too.
    if (!options.waitForJsonLine || !line.startsWith("{")) return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  // "close" comes after the last line of stdout has been read, "exit" may come before it.
  let closed = false;
  child.once("close", () => {
    closed = true;
    for (const waiter of waiters.splice(0)) waiter(undefined);
  });
  if (child.pid === undefined) throw new Error(`${name} could not be started`);
  const pid = child.pid;
  const stderrTail = () => tail.join("").split("\n").slice(-15).join("\n");

  const nextMessage = async (timeoutMs: number): Promise<Record<string, unknown>> => {
    const queued = messages.shift();
    if (queued) return queued;
    let timer: NodeJS.Timeout | undefined;
    let waiter: ((message: Record<string, unknown> | undefined) => void) | undefined;
    try {
      const message = await new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
        if (closed) return resolve(undefined);
        waiter = resolve;
        waiters.push(resolve);
        timer = setTimeout(() => reject(new Error(`${name}: no message after ${timeoutMs} ms`)), timeoutMs);
      });
      if (!message) throw new Error(`${name} exited with code ${child.exitCode}\n${stderrTail()}`);
      return message;
    } finally {
      clearTimeout(timer);
      const index = waiter ? waiters.indexOf(waiter) : -1;
      if (index >= 0) waiters.splice(index, 1);
    }
  };
  let ready: Record<string, unknown> = {};
  if (options.waitForJsonLine) {
    try {
      ready = await nextMessage(options.readyTimeoutMs ?? 90_000);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }

  return {
    child,
    pid,
    ready,
    nextMessage,
    stderrTail,
    async stop({ graceMs = 5000 } = {}) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (code === "timeout") {
        child.kill("SIGKILL");
        return exited;
      }
      log?.end();
      return code;
    },
  };
}

/** Stops every child still running; used on errors and Ctrl+C. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}
