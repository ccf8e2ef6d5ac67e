import { createOrganizationWithAdmin } from "../accounts/organizations.js";
import { runGroup } from "./group.js";
import { help, parseOptions, required, withContext } from "./options.js";

const USAGE = `Usage: gatehouse org <create> [options]

Commands:
  create   Create an organization and its first owner

Run "gatehouse org <command> --help" for a command's options.
`;

export function runOrgCommand(args: string[]): Promise<number> {
  return runGroup("org", USAGE, { create: runOrgCreate }, args);
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
