import { createApiKey, createOperatorApiKey, listApiKeys, revokeApiKey } from "../api/keys.js";
import { GatehouseError } from "../errors.js";
import { findOrganizationBySlug } from "../store/organizations.js";
import { runGroup } from "./group.js";
import { help, parseOptions, required, withContext } from "./options.js";
import { printJson, table, UsageError } from "./output.js";

const USAGE = `Usage: gatehouse apikey <create|list|revoke> [options]

Commands:
  create   Create an API key for an organization (--org) or for the operator (--operator)
  list     List API keys with when each was last used
  revoke   Revoke an API key: every instance refuses it from the next request on

Run "gatehouse apikey <command> --help" for a command's options.
`;

const CREATE_USAGE = `Usage: gatehouse apikey create (--org <slug> | --operator) [--name <name>]

Creates an API key. The key is printed once, on the last line; store it now.
  --org        the organization the key acts for (its connections, users, events)
  --operator   a key that acts for the deployment instead (organizations, applications)
  --name       a label to tell keys apart (default "default")
`;

const LIST_USAGE = `Usage: gatehouse apikey list [--org <slug> | --operator] [--json]

Lists API keys, newest first, revoked ones included: id, scope, organization, name, prefix,
created, last used (to the minute) and revoked.
  --org        only this organization's keys
  --operator   only operator keys
  --json       print a JSON array instead of a table
`;

const REVOKE_USAGE = `Usage: gatehouse apikey revoke --id <key id>

Revokes the key with this id (see "gatehouse apikey list").
  --id   the key's id
`;

export function runApiKeyCommand(args: string[]): Promise<number> {
  return runGroup("apikey", USAGE, { create: runCreate, list: runList, revoke: runRevoke }, args);
}

async function runCreate(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    org: { type: "string" },
    operator: { type: "boolean" },
    name: { type: "string" },
  });
  if (values.help) return help(CREATE_USAGE);
  if (values.operator && values.org !== undefined) {
    throw new UsageError(`--org and --operator exclude each other\n\n${CREATE_USAGE}`);
  }
  const org = values.operator ? undefined : required(values, "org", CREATE_USAGE);
  const name = typeof values.name === "string" ? values.name : "default";
  return withContext(async (ctx) => {
    const created =
      org === undefined ? await createOperatorApiKey(ctx, name) : await createApiKey(ctx, org, name);
    const owner = org === undefined ? "the operator" : org;
    process.stdout.write(
      `Created API key "${name}" (${created.id}) for ${owner}. It is shown once; store it now:\n${created.key}\n`,
    );
    return 0;
  });
}

async function runList(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    org: { type: "string" },
    operator: { type: "boolean" },
    json: { type: "boolean" },
  });
  if (values.help) return help(LIST_USAGE);
  if (values.operator && values.org !== undefined) {
    throw new UsageError(`--org and --operator exclude each other\n\n${LIST_USAGE}`);
  }
  return withContext(async (ctx) => {
    let organizationId: string | null = null;
    if (typeof values.org === "string") {
      const organization = await findOrganizationBySlug(ctx.store.db, values.org.trim().toLowerCase());
      if (!organization)
        throw new GatehouseError("NOT_FOUND", `No organization with the slug "${values.org}".`);
      organizationId = organization.id;
    }
    let keys = await listApiKeys(ctx, organizationId);
    if (values.operator) keys = keys.filter((k) => k.scope === "operator");
    const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const rows = keys.map((k) => ({
      id: k.id,
      scope: k.scope,
      organization: k.organizationSlug,
      name: k.name,
      prefix: k.prefix,
      createdAt: time(k.createdAt),
      lastUsedAt: time(k.lastUsedAt),
      revokedAt: time(k.revokedAt),
    }));
    if (values.json) {
      printJson(rows);
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write("No API keys.\n");
      return 0;
    }
    process.stdout.write(
      table(
        ["ID", "SCOPE", "ORGANIZATION", "NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
        rows.map((r) => [
          r.id,
          r.scope,
          r.organization ?? "-",
          r.name,
          r.prefix,
          r.createdAt ?? "-",
          r.lastUsedAt ?? "never",
          r.revokedAt ?? "-",
        ]),
      ),
    );
    return 0;
  });
}

async function runRevoke(args: string[]): Promise<number> {
  const values = parseOptions(args, { id: { type: "string" } });
  if (values.help) return help(REVOKE_USAGE);
  const id = required(values, "id", REVOKE_USAGE).trim().toLowerCase();
  return withContext(async (ctx) => {
    const revoked = await revokeApiKey(ctx, id, { operator: true });
    process.stdout.write(`Revoked API key "${revoked.name}" (${revoked.id}).\n`);
    return 0;
  });
}
