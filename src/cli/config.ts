import { checkServeConfig, effectiveSettings, readConfig, sqliteFile } from "../config.js";
import { readKeyFile } from "../crypto/secret-key.js";
import { runGroup } from "./group.js";
import { help, parseOptions } from "./options.js";
import { printJson, table } from "./output.js";

const USAGE = `Usage: gatehouse config <check> [options]

Commands:
  check   Validate the configuration and print its effective values, secrets masked

Run "gatehouse config <command> --help" for a command's options.
`;

const CHECK_USAGE = `Usage: gatehouse config check [--json]

Reads the environment exactly as "gatehouse serve" does and prints every setting: its effective
value, where it came from (environment, file or default) and what it means. Secrets are masked.
Exits 0 when the configuration is valid, 2 with the reason when it is not: it refuses what
"gatehouse serve" refuses before opening the database, including a SQLite database found
without its secret key. Nothing is written.
  --json   print one JSON object instead of a table
`;

export function runConfigCommand(args: string[]): Promise<number> {
  return runGroup("config", USAGE, { check: runCheck }, args);
}

async function runCheck(args: string[]): Promise<number> {
  const values = parseOptions(args, { json: { type: "boolean" } });
  if (values.help) return help(CHECK_USAGE);
  const { config, sources } = readConfig();
  // What serve refuses beyond the variables themselves, checked without writing anything.
  checkServeConfig(config);
  const file = sqliteFile(config.databaseUrl);
  if (file && !config.secretKey) readKeyFile(file);
  const settings = effectiveSettings(config, sources);
  if (values.json) {
    printJson({ valid: true, settings });
    return 0;
  }
  process.stdout.write("The configuration is valid.\n\n");
  process.stdout.write(
    table(
      ["SETTING", "VALUE", "FROM"],
      settings.map((s) => [s.name, s.value === "" ? "(not set)" : s.value, s.source]),
    ),
  );
  return 0;
}
