import { parseArgs } from "node:util";
import pino from "pino";
import { loadConfig } from "../config.js";
import type { AppContext } from "../server/context.js";
import { createContext } from "../server/context-factory.js";
import { createLogger } from "../server/log.js";
import { UsageError } from "./output.js";

export function parseOptions<
  T extends Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>,
>(args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function required(values: Record<string, unknown>, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required\n\n${usage}`);
  return value;
}

export function help(text: string): number {
  process.stdout.write(text);
  return 0;
}

/** Runs a command against the configured database with logs kept off stdout. */
export async function withContext<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // stdout carries the command's answer (an id, a key, a table); log lines go to stderr.
  const log = createLogger(process.env.LOG_LEVEL || "warn", pino.destination(2));
  const ctx = await createContext(config, { log });
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}
