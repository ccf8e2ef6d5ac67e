import { readFileSync } from "node:fs";
import { loadConfig, sqliteFile } from "../config.js";
import { createKeyFileForNewDatabase } from "../crypto/secret-key.js";
import { openDatabase, reachDatabase } from "../server/context-factory.js";
import { migrateToLatest } from "../store/database.js";
import { runApiKeyCommand } from "./apikey.js";
import { runAppCommand } from "./app.js";
import { runBackup, runRestore } from "./backup.js";
import { runConfigCommand } from "./config.js";
import { runConnectionCommand } from "./connection.js";
import { runDomainCommand } from "./domain.js";
import { runKeysCommand } from "./keys.js";
import { help, parseOptions } from "./options.js";
import { runOrgCommand } from "./org.js";
import { reportCliError, UsageError } from "./output.js";
import { runServe } from "./serve.js";

const USAGE = `Usage: gatehouse <command> [options]
       gatehouse --version

Commands:
  serve                      Run the production server (configured by environment)
  demo                       Run Gatehouse with the development IdP and seeded data
  dev-idp                    Run only the development identity provider
  migrate                    Bring the database schema up to date
  org create                 Create an organization and its owner
  org sign-out               End every session in an organization, or one member's
  apikey create              Create an API key for an organization or the operator
  apikey list                List API keys and when each was last used
  apikey revoke              Revoke an API key
  connection list            List an organization's SSO connections
  connection disable         Disable an SSO connection (the way back in after a lock-out)
  connection enable          Enable a disabled SSO connection again
  domain list|add|verify|remove  An organization's domains (add --verified: the operator vouches)
  config check               Validate the configuration and print it, secrets masked
  backup --to <file>         Copy the SQLite database safely while it runs (PostgreSQL: pg_dump)
  restore --from <file>      Put a backup in place of the stopped SQLite database (PostgreSQL: pg_restore)
  app create|list|delete     Register the applications that sign in through Gatehouse (OpenID Connect)
  keys rotate                Add a new signing key for the OpenID Provider (published now, signs later)
  keys rotate-secret-key     Re-encrypt every sealed value under the current GATEHOUSE_SECRET_KEY

Run "gatehouse <command> --help" for a command's options. Exit status: 0 done, 1 refused
(invalid value, not found, conflict, unreachable database), 2 usage or configuration error.
`;

/** The version in package.json, which sits two folders up from both src/cli and dist/cli. */
export function version(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

export async function runCli(argv: string[]): Promise<number> {
  const [command] = argv;
  try {
    switch (command) {
      case undefined:
        // No command is a usage error: the usage goes with it to stderr.
        throw new UsageError(`missing command\n\n${USAGE}`);
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return 0;
      case "serve":
        return await runServe(argv.slice(1));
      case "demo": {
        const { runDemo } = await import("./demo.js");
        return await runDemo(argv.slice(1));
      }
      case "dev-idp": {
        const { runDevIdpCommand } = await import("../dev-idp/command.js");
        return await runDevIdpCommand(argv.slice(1));
      }
      case "migrate":
        return await runMigrate(argv.slice(1));
      case "--version":
      case "-v":
      case "version":
        process.stdout.write(`${version()}\n`);
        return 0;
      case "org":
        return await runOrgCommand(argv.slice(1));
      case "apikey":
        return await runApiKeyCommand(argv.slice(1));
      case "connection":
        return await runConnectionCommand(argv.slice(1));
      case "domain":
        return await runDomainCommand(argv.slice(1));
      case "config":
        return await runConfigCommand(argv.slice(1));
      case "backup":
        return await runBackup(argv.slice(1));
      case "restore":
        return runRestore(argv.slice(1));
      case "app":
        return await runAppCommand(argv.slice(1));
      case "keys":
        return await runKeysCommand(argv.slice(1));
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (error) {
    return reportCliError(error);
  }
}

const MIGRATE_USAGE = `Usage: gatehouse migrate

Applies pending database migrations to GATEHOUSE_DATABASE_URL and exits.
`;

async function runMigrate(args: string[]): Promise<number> {
  const values = parseOptions(args, {});
  if (values.help) return help(MIGRATE_USAGE);
  const config = loadConfig();
  const file = sqliteFile(config.databaseUrl);
  // A database and its generated key are born together (see createKeyFileForNewDatabase).
  if (file && !config.secretKey) createKeyFileForNewDatabase(file);
  const store = openDatabase(config.databaseUrl, {});
  try {
    await reachDatabase(store, config.databaseUrl);
    const report = await migrateToLatest(store);
    process.stdout.write(
      report.applied.length ? `applied: ${report.applied.join(", ")}\n` : "database schema is up to date\n",
    );
    return 0;
  } finally {
    await store.close();
  }
}
