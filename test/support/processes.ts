import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root: `serve` runs from here so that `tsx` and `public/` resolve as in production. */
const root = fileURLToPath(new URL("../../", import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real `gatehouse serve` process, as an operator would run it behind a load balancer. */
export interface GatehouseProcess {
  /** `http://localhost:<port>`: this instance reached directly, whatever its base URL says. */
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line written to stdout (pino's JSON lines) and stderr, in order. */
  output: string[];
  /** Parsed JSON log lines from stdout. */
  logs(): Array<Record<string, unknown>>;
  exited: Promise<Exit>;
  /** Resolves with the first log line `matches` accepts, once it is written. */
  waitForLog(
    matches: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves once `/healthz` answers 200; rejects if the process exits first or `timeoutMs` passes. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL if the process is still running after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface SpawnOptions {
  port: number;
  /** Added to a copy of this process's environment stripped of every `GATEHOUSE_*` variable. */
  env: Record<string, string>;
}

export function spawnGatehouse(options: SpawnOptions): GatehouseProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // The test runner's own variables would make the child think it is a test file.
    if (name.startsWith("GATEHOUSE_") || name.startsWith("NODE_TEST")) continue;
    env[name] = value;
  }
  Object.assign(env, { HOST: "127.0.0.1", LOG_LEVEL: "info", ...options.env, PORT: String(options.port) });
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      output.push(...lines.filter(Boolean));
    });
    stream?.on("end", () => {
      if (pending) output.push(pending);
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  let exit: Exit | undefined;
  void exited.then((value) => {
    exit = value;
  });
  const url = `http://localhost:${options.port}`;

  return {
    url,
    port: options.port,
    child,
    output,
    logs() {
      const parsed: Array<Record<string, unknown>> = [];
      for (const line of output) {
        try {
          const value: unknown = JSON.parse(line);
          if (value && typeof value === "object") parsed.push(value as Record<string, unknown>);
        } catch {
          // stderr text, e.g. a start-up failure; kept in `output`.
        }
      }
      return parsed;
    },
    exited,
    async waitForLog(matches, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = this.logs().find(matches);
        if (line) return line;
        if (exit || Date.now() > deadline) throw new Error(`log line not written:\n${tail(output)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    // Generous: a start on a busy CI machine (compiling, argon2, first key) can take tens of seconds.
    async waitHealthy(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exit)
          throw new Error(`gatehouse on ${options.port} exited early (${describe(exit)}):\n${tail(output)}`);
        try {
          const answer = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (answer.status === 200) return;
        } catch {
          // Not listening yet.
        }
        if (Date.now() > deadline)
          throw new Error(`gatehouse on ${options.port} not healthy:\n${tail(output)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop(graceMs = 5000) {
      if (exit) return exit;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function describe(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

function tail(lines: string[]): string {
  return lines.slice(-20).join("\n");
}
