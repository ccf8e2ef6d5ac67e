import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process against `env` only (plus the parent's non-Gatehouse environment). */
export function runGatehouseCli(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return runTsx(["src/main.ts", ...args], env);
}

/** The CLI with `stdin` written to its standard input (then closed). */
export function runGatehouseCliWithInput(
  env: Record<string, string>,
  stdin: string | undefined,
  ...args: string[]
): Promise<Run> {
  return runTsx(["src/main.ts", ...args], env, stdin);
}

/** Runs a TypeScript file of the repository in a child process, with the same environment rule. */
export function runTsx(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(GATEHOUSE_|LOG_LEVEL$|PORT$|HOST$)/.test(name)),
  );
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}
