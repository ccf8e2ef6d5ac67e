import { readFileSync } from "node:fs";
import { createOrganizationWithAdmin } from "../accounts/organizations.js";
import { signOutMember, signOutOrganization } from "../accounts/sign-out-everywhere.js";
import { normalizeEmail } from "../domain/email.js";
import { GatehouseError } from "../errors.js";
import { findOrganizationBySlug } from "../store/organizations.js";
import { findUserByEmail } from "../store/users.js";
import { runGroup } from "./group.js";
import { help, parseOptions, required, withContext } from "./options.js";
import { printJson, UsageError } from "./output.js";

const USAGE = `Usage: gatehouse org <create|sign-out> [options]

Commands:
  create     Create an organization and invite its first owner (or give the owner a password)
  sign-out   End every session of the organization, or of one of its members

Run "gatehouse org <command> --help" for a command's options.
`;

export function runOrgCommand(args: string[]): Promise<number> {
  return runGroup("org", USAGE, { create: runOrgCreate, "sign-out": runOrgSignOut }, args);
}

const SIGN_OUT_USAGE = `Usage: gatehouse org sign-out --slug <slug> [--email <member email>] [--json]

Ends every session opened in the organization ("sign out everyone"), or, with --email, every
session that member opened in it ("sign out everywhere"). Applications signed in through those
sessions are told (Back-Channel Logout). Prints how many sessions ended.
  --slug    the organization
  --email   one member only
  --json    print {sessionsEnded} as JSON instead
`;

async function runOrgSignOut(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    slug: { type: "string" },
    email: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return help(SIGN_OUT_USAGE);
  const slug = required(values, "slug", SIGN_OUT_USAGE).trim().toLowerCase();
  const email = typeof values.email === "string" ? values.email : undefined;
  return withContext(async (ctx) => {
    const organization = await findOrganizationBySlug(ctx.store.db, slug);
    if (!organization) throw new GatehouseError("NOT_FOUND", `No organization with the slug "${slug}".`);
    const actor = { organizationId: organization.id, userId: null };
    let sessionsEnded: number;
    if (email === undefined) {
      sessionsEnded = await signOutOrganization(ctx, actor);
    } else {
      const user = await findUserByEmail(ctx.store.db, normalizeEmail(email) ?? "");
      if (!user) throw new GatehouseError("NOT_FOUND", `No member ${email} in ${slug}.`);
      sessionsEnded = await signOutMember(ctx, actor, user.id);
    }
    if (values.json) printJson({ sessionsEnded });
    else process.stdout.write(`${sessionsEnded} session(s) ended.\n`);
    return 0;
  });
}

const ORG_USAGE = `Usage: gatehouse org create --slug <slug> --name <name> --admin-email <email> [password option] [--json]

Creates an organization. Prints the organization id on the first line; without a password
option, the owner is invited and the last line is their one-time setup link (valid 72 hours,
shown once), where they set a password or sign in through SSO.
  --slug                   short identifier: lower-case letters, digits and hyphens (e.g. acme)
  --name                   display name (e.g. "Acme Corporation")
  --admin-email            the owner's email address
  --json                   print {id, slug, name, setupLink, expiresAt} as JSON instead

Password options, for scripts that give the owner a password at once (at least 12 characters).
The password is never taken from the command line, where shell history and ps would show it:
  --admin-password-stdin   read it from standard input (one line)
  --admin-password-file    read it from a file (one line)
  --admin-password -       the same as --admin-password-stdin
`;

const ARGV_PASSWORD_REFUSED = `--admin-password no longer takes the password itself: shell history and ps would show it.
Use --admin-password-stdin (or --admin-password -) to pipe it in, --admin-password-file <path>,
or leave the password out to print a one-time setup link for the owner.`;

/** The password's one line: a trailing newline (from echo or a file editor) is not part of it. */
function firstLine(text: string): string {
  return text.replace(/\r?\n$/, "");
}

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch (error) {
    throw new UsageError(`could not read the password from standard input: ${(error as Error).message}`);
  }
}

function adminPassword(values: Record<string, unknown>): string | undefined {
  const argv = values["admin-password"];
  const file = values["admin-password-file"];
  const stdin = values["admin-password-stdin"] === true || argv === "-";
  if (typeof argv === "string" && argv !== "-") throw new UsageError(ARGV_PASSWORD_REFUSED);
  if (stdin && typeof file === "string") {
    throw new UsageError("give the password one way: standard input or --admin-password-file, not both");
  }
  if (typeof file === "string") {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(
        `could not read --admin-password-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    return firstLine(text);
  }
  return stdin ? firstLine(readStdin()) : undefined;
}

async function runOrgCreate(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    slug: { type: "string" },
    name: { type: "string" },
    "admin-email": { type: "string" },
    "admin-password": { type: "string" },
    "admin-password-stdin": { type: "boolean" },
    "admin-password-file": { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return help(ORG_USAGE);
  const input = {
    slug: required(values, "slug", ORG_USAGE),
    name: required(values, "name", ORG_USAGE),
    adminEmail: required(values, "admin-email", ORG_USAGE),
    adminPassword: adminPassword(values),
  };
  return withContext(async (ctx) => {
    const created = await createOrganizationWithAdmin(ctx, input);
    const { organization, invitation, setupLink } = created;
    const expiresAt = invitation ? new Date(invitation.expiresAt).toISOString() : undefined;
    if (values.json) {
      printJson({
        id: organization.id,
        slug: organization.slug,
        name: organization.name,
        ...(setupLink ? { setupLink, expiresAt } : {}),
      });
      return 0;
    }
    process.stdout.write(`${organization.id}\n`);
    if (setupLink && invitation) {
      process.stdout.write(
        `Setup link for ${invitation.email} (owner; works once, until ${expiresAt}):\n${setupLink}\n`,
      );
    }
    return 0;
  }, CREATES_DATABASE);
}

/** The documented first run creates an organization before the server ever started. */
const CREATES_DATABASE = { createDatabase: true };
