import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { ConfigError, loadConfig, sqliteFile } from "../config.js";
import type { AppContext } from "../server/context.js";
import { createContext } from "../server/context-factory.js";
import { createLogger } from "../server/log.js";
import { UsageError } from "./output.js";

export function parseOptions<
  T extends Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>,
>(args: string[], options: T) {
  try {
    return parseArgs({
      args: joinNegativeValues(args, options),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * `--overlap-hours -1`: parseArgs takes a value that starts with a dash for a forgotten value
 * and answers "argument is ambiguous"; a negative number is passed on as the option's value,
 * so the option's own check can say what it accepts.
 */
function joinNegativeValues(
  args: string[],
  options: Record<string, { type: "string" | "boolean" }>,
): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name && options[name]?.type === "string" && next !== undefined && /^-[0-9.]/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
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

export interface ContextCommandOptions {
  /**
   * May create the SQLite database when its file does not exist: `org create` and `app create`,
   * the set-up of a new deployment, possibly before its first start. Every other command works
   * on an existing database only.
   */
  createDatabase?: boolean;
}

/** Runs a command against the configured database with logs kept off stdout. */
export async function withContext<T>(
  fn: (ctx: AppContext) => Promise<T>,
  options: ContextCommandOptions = {},
): Promise<T> {
  const config = loadConfig();
  const file = sqliteFile(config.databaseUrl);
  const isNew = file !== undefined && !existsSync(file);
  // A mistyped path or the wrong working folder would otherwise answer "No API keys." from a
  // database created on the spot, and leave it (and a new secret key) behind.
  if (isNew && !options.createDatabase) {
    throw new ConfigError(
      `GATEHOUSE_DATABASE_URL: there is no database at ${path.resolve(file)}; check the path (and the working folder, for a relative one), or create the database with "gatehouse migrate" or "gatehouse serve"`,
    );
  }
  // stdout carries the command's answer (an id, a key, a table); log lines go to stderr.
  const log = createLogger(process.env.LOG_LEVEL || "warn", pino.destination(2));
  const ctx = await createContext(config, { log });
  if (isNew) {
    process.stderr.write(
      `gatehouse: created a new database at ${path.resolve(file)} (GATEHOUSE_DATABASE_URL)${config.secretKey ? "" : ", and its secret key beside it"}\n`,
    );
  }
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}
