import { ConfigError } from "../config.js";
import { isGatehouseError } from "../errors.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Prints an error the way an operator wants to read it, and returns the exit code. */
export function reportCliError(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    return 2;
  }
  if (isGatehouseError(error)) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    for (const [field, message] of Object.entries(error.fields ?? {})) {
      process.stderr.write(`  --${kebab(field)}: ${message}\n`);
    }
    return 1;
  }
  process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
