import { ConfigError } from "../config.js";
import { isGatehouseError } from "../errors.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Prints an error the way an operator wants to read it, and returns the exit code. Each field's
 * message names the option that set it.
 */
export function reportCliError(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    return 2;
  }
  if (isGatehouseError(error)) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    for (const [field, message] of Object.entries(error.fields ?? {})) {
      // A one-field refusal whose message is the field's says it once.
      if (message === error.message) continue;
      process.stderr.write(`  --${FLAGS[field] ?? kebab(field)}: ${message}\n`);
    }
    return 1;
  }
  process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

/** Fields whose option is not their kebab-cased name: a list is a repeated, singular option. */
const FLAGS: Record<string, string> = {
  redirectUris: "redirect-uri",
  postLogoutRedirectUris: "post-logout-redirect-uri",
};

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** A plain-text table with two spaces between columns, for people. */
export function table(headings: string[], rows: string[][]): string {
  const widths = headings.map((heading, i) =>
    Math.max(heading.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `${cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  return line(headings) + rows.map(line).join("");
}

/** `--json` output: one JSON document on stdout, for scripts. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
