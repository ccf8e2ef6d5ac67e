import { disableConnection, enableConnection } from "../connections/delete.js";
import { identityProviderOf } from "../connections/view.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { listConnections } from "../store/connections.js";
import { findOrganizationBySlug, type Organization } from "../store/organizations.js";
import { runGroup } from "./group.js";
import { help, parseOptions, required, withContext } from "./options.js";
import { printJson, table } from "./output.js";

const USAGE = `Usage: gatehouse connection <list|disable|enable> [options]

Commands:
  list      List an organization's SSO connections
  disable   Disable an SSO connection: its users can sign in with a password again
  enable    Enable a disabled SSO connection again: its users sign in through it

Run "gatehouse connection <command> --help" for a command's options.
`;

const LIST_USAGE = `Usage: gatehouse connection list --org <slug> [--json]

Lists the organization's SSO connections: name, protocol (oidc or saml), status, issuer (a SAML
IdP's entity ID), domains and id.
  --org    the organization's slug (e.g. acme)
  --json   print a JSON array instead of a table
`;

const DISABLE_USAGE = `Usage: gatehouse connection disable --org <slug> --name <connection name>

Disables the connection, keeping its configuration. Use it when a broken connection locks an
organization out: its users (and admins) can sign in with their passwords again.
  --org    the organization's slug (e.g. acme)
  --name   the connection's name, as "connection list" shows it
`;

const ENABLE_USAGE = `Usage: gatehouse connection enable --org <slug> --name <connection name>

Enables a disabled connection: people at its domains sign in through it again, and their
password and LinkedIn sessions end.
  --org    the organization's slug (e.g. acme)
  --name   the connection's name, as "connection list" shows it
`;

export function runConnectionCommand(args: string[]): Promise<number> {
  return runGroup("connection", USAGE, { list: runList, disable: runDisable, enable: runEnable }, args);
}

async function runList(args: string[]): Promise<number> {
  const values = parseOptions(args, { org: { type: "string" }, json: { type: "boolean" } });
  if (values.help) return help(LIST_USAGE);
  const slug = required(values, "org", LIST_USAGE);
  return withContext(async (ctx) => {
    const organization = await organizationBySlug(ctx, slug);
    const connections = await listConnections(ctx.store.db, organization.id);
    if (values.json) {
      printJson(
        connections.map((c) => ({
          id: c.id,
          name: c.name,
          status: c.status,
          protocol: c.protocol,
          issuer: identityProviderOf(c),
          domains: c.domains,
        })),
      );
      return 0;
    }
    if (connections.length === 0) {
      process.stdout.write("No connections.\n");
      return 0;
    }
    process.stdout.write(
      table(
        ["NAME", "PROTOCOL", "STATUS", "ISSUER", "DOMAINS", "ID"],
        connections.map((c) => [
          c.name,
          c.protocol,
          c.status,
          identityProviderOf(c),
          c.domains.join(","),
          c.id,
        ]),
      ),
    );
    return 0;
  });
}

async function runDisable(args: string[]): Promise<number> {
  const values = parseOptions(args, { org: { type: "string" }, name: { type: "string" } });
  if (values.help) return help(DISABLE_USAGE);
  const slug = required(values, "org", DISABLE_USAGE);
  const name = required(values, "name", DISABLE_USAGE);
  return withContext(async (ctx) => {
    const organization = await organizationBySlug(ctx, slug);
    const connections = await listConnections(ctx.store.db, organization.id);
    const connection = connections.find((c) => c.name.toLowerCase() === name.trim().toLowerCase());
    if (!connection) {
      throw new GatehouseError(
        "CONNECTION_NOT_FOUND",
        `No connection named "${name}" in the organization ${organization.slug}. See: gatehouse connection list --org ${organization.slug}`,
      );
    }
    if (connection.status === "disabled") {
      process.stdout.write(`Connection "${connection.name}" (${connection.id}) is already disabled.\n`);
      return 0;
    }
    const { people } = await disableConnection(
      ctx,
      { organizationId: organization.id, actorUserId: null },
      connection.id,
    );
    const at = connection.domains.join(", ");
    process.stdout.write(
      `Disabled connection "${connection.name}" (${connection.id}) of ${organization.slug}. ` +
        (people
          ? `Of the people at ${at}, ${people.peopleWithPasswordOrLinkedIn} can sign in with a password or LinkedIn; ` +
            `${people.peopleWithNeither} have neither (accounts single sign-on created) and cannot sign in until the connection is enabled again.\n`
          : `People at ${at} with a password or LinkedIn can sign in with it again.\n`),
    );
    return 0;
  });
}

async function runEnable(args: string[]): Promise<number> {
  const values = parseOptions(args, { org: { type: "string" }, name: { type: "string" } });
  if (values.help) return help(ENABLE_USAGE);
  const slug = required(values, "org", ENABLE_USAGE);
  const name = required(values, "name", ENABLE_USAGE);
  return withContext(async (ctx) => {
    const organization = await organizationBySlug(ctx, slug);
    const connections = await listConnections(ctx.store.db, organization.id);
    const connection = connections.find((c) => c.name.toLowerCase() === name.trim().toLowerCase());
    if (!connection) {
      throw new GatehouseError(
        "CONNECTION_NOT_FOUND",
        `No connection named "${name}" in the organization ${organization.slug}. See: gatehouse connection list --org ${organization.slug}`,
      );
    }
    const { changed, sessionsEnded } = await enableConnection(
      ctx,
      { organizationId: organization.id, actorUserId: null },
      connection.id,
    );
    if (!changed) {
      process.stdout.write(`Connection "${connection.name}" (${connection.id}) is already enabled.\n`);
      return 0;
    }
    process.stdout.write(
      `Enabled connection "${connection.name}" (${connection.id}) of ${organization.slug}. ` +
        `Users at ${connection.domains.join(", ")} sign in through it; ${sessionsEnded} password or LinkedIn session(s) ended.\n`,
    );
    return 0;
  });
}

async function organizationBySlug(ctx: AppContext, slug: string): Promise<Organization> {
  const organization = await findOrganizationBySlug(ctx.store.db, slug.trim().toLowerCase());
  if (!organization) throw new GatehouseError("NOT_FOUND", `No organization with the slug "${slug}".`);
  return organization;
}
