import { createOrganizationWithAdmin } from "../accounts/organizations.js";
import { createApiKey } from "../api/keys.js";
import { loadConfig } from "../config.js";
import { migrateToLatest, openStore } from "../store/database.js";
import { runAppCommand } from "./app.js";
import { runConnectionCommand } from "./connection.js";
import { runKeysCommand } from "./keys.js";
import { help, parseOptions, required, withContext } from "./options.js";
import { reportCliError, UsageError } from "./output.js";
import { runServe } from "./serve.js";

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  serve                      Run the production server (configured by environment)
  demo                       Run Gatehouse with the development IdP and seeded data
  dev-idp                    Run only the development identity provider
  migrate                    Bring the database schema up to date
  org create                 Create an organization and its owner
  apikey create              Create an API key for an organization
  connection list            List an organization's SSO connections
  connection disable         Disable an SSO connection (the way back in after a lock-out)
  app create|list|delete     Register the applications that sign in through Gatehouse (OpenID Connect)
  keys rotate                Add a new signing key for the OpenID Provider (published now, signs later)

Run "gatehouse <command> --help" for a command's options.
`;

export async function runCli(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
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
      case "org":
        if (sub === "create") return await runOrgCreate(argv.slice(2));
        throw new UsageError(`unknown command "org ${sub ?? ""}". Try: gatehouse org create --help`);
      case "apikey":
        if (sub === "create") return await runApiKeyCreate(argv.slice(2));
        throw new UsageError(`unknown command "apikey ${sub ?? ""}". Try: gatehouse apikey create --help`);
      case "connection":
        return await runConnectionCommand(argv.slice(1));
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
  const store = openStore(config.databaseUrl);
  try {
    const report = await migrateToLatest(store);
    process.stdout.write(
      report.applied.length ? `applied: ${report.applied.join(", ")}\n` : "database schema is up to date\n",
    );
    return 0;
  } finally {
    await store.close();
  }
}

const ORG_USAGE = `Usage: gatehouse org create --slug <slug> --name <name> --admin-email <email> --admin-password <password>

Creates an organization and its owner, and prints the organization id.
  --slug            short identifier: lower-case letters, digits and hyphens (e.g. acme)
  --name            display name (e.g. "Acme Corporation")
  --admin-email     the owner's email address
  --admin-password  the owner's password: at least 12 characters
`;

async function runOrgCreate(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    slug: { type: "string" },
    name: { type: "string" },
    "admin-email": { type: "string" },
    "admin-password": { type: "string" },
  });
  if (values.help) return help(ORG_USAGE);
  const input = {
    slug: required(values, "slug", ORG_USAGE),
    name: required(values, "name", ORG_USAGE),
    adminEmail: required(values, "admin-email", ORG_USAGE),
    adminPassword: required(values, "admin-password", ORG_USAGE),
  };
  return withContext(async (ctx) => {
    const { organization } = await createOrganizationWithAdmin(ctx, input);
    process.stdout.write(`${organization.id}\n`);
    return 0;
  });
}

const APIKEY_USAGE = `Usage: gatehouse apikey create --org <slug> [--name <name>]

Creates an API key for the organization. The key is printed once, on the last line; store it now.
`;

async function runApiKeyCreate(args: string[]): Promise<number> {
  const values = parseOptions(args, { org: { type: "string" }, name: { type: "string" } });
  if (values.help) return help(APIKEY_USAGE);
  const org = required(values, "org", APIKEY_USAGE);
  const name = typeof values.name === "string" ? values.name : "default";
  return withContext(async (ctx) => {
    const created = await createApiKey(ctx, org, name);
    process.stdout.write(
      `Created API key "${name}" (${created.id}) for ${org}. It is shown once; store it now:\n${created.key}\n`,
    );
    return 0;
  });
}
