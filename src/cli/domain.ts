import { canonicalDomain, displayDomain } from "../domain/organization-domains.js";
import { addDomain } from "../domains/add.js";
import { removeDomain } from "../domains/remove.js";
import { verifyDomain } from "../domains/verify.js";
import { toDomainView } from "../domains/view.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { findDomainByName, listDomains, type OrganizationDomain } from "../store/domains.js";
import { findOrganizationBySlug, type Organization } from "../store/organizations.js";
import { runGroup } from "./group.js";
import { help, parseOptions, required, withContext } from "./options.js";
import { printJson, table } from "./output.js";

const USAGE = `Usage: gatehouse domain <list|add|verify|remove> [options]

Commands:
  list      List an organization's domains, their state and the TXT record each needs
  add       Add a domain (pending until verified), or with --verified vouch for it as the operator
  verify    Look the domain's TXT record up now
  remove    Remove a domain: it no longer routes, enforces, provisions or links

Only verified domains route to a connection, enforce SSO and provision accounts. An organization
proves a domain by publishing a TXT record; see docs/domains.md.
Run "gatehouse domain <command> --help" for a command's options.
`;

const LIST_USAGE = `Usage: gatehouse domain list --org <slug> [--json]

Lists the organization's domains: name, state, last check, and the TXT record to publish.
  --org    the organization's slug (e.g. acme)
  --json   print a JSON array instead of a table
`;

const ADD_USAGE = `Usage: gatehouse domain add --org <slug> --domain <domain> [--verified]

Adds a domain to the organization, pending until its TXT record is published and verified, and
prints the record. Public suffixes (com, co.uk) and public email providers (gmail.com) are refused.
  --org        the organization's slug (e.g. acme)
  --domain     the email domain, such as acme.com
  --verified   the operator's override: verified now, without DNS, audited as such. Never for a
               public suffix, nor for a domain another organization has verified
`;

const VERIFY_USAGE = `Usage: gatehouse domain verify --org <slug> --domain <domain>

Looks up _gatehouse-challenge.<domain> TXT now (through GATEHOUSE_DNS_SERVERS, else the system's
resolvers) and says what it found. Exit status 0 when the domain is verified, 1 otherwise.
  --org      the organization's slug (e.g. acme)
  --domain   one of the organization's domains
`;

const REMOVE_USAGE = `Usage: gatehouse domain remove --org <slug> --domain <domain>

Removes the domain from the organization and its connections: it no longer routes, enforces,
provisions or links, and another organization may verify it.
  --org      the organization's slug (e.g. acme)
  --domain   one of the organization's domains
`;

export function runDomainCommand(args: string[]): Promise<number> {
  return runGroup(
    "domain",
    USAGE,
    { list: runList, add: runAdd, verify: runVerify, remove: runRemove },
    args,
  );
}

const operator = (organization: Organization) => ({ organizationId: organization.id, actorUserId: null });

function recordLines(d: OrganizationDomain): string {
  const { record } = toDomainView(d, 0);
  return `  Publish this TXT record, then run: gatehouse domain verify --org <slug> --domain ${d.domain}\n    name:  ${record.name}\n    value: ${record.value}\n`;
}

async function runList(args: string[]): Promise<number> {
  const values = parseOptions(args, { org: { type: "string" }, json: { type: "boolean" } });
  if (values.help) return help(LIST_USAGE);
  const slug = required(values, "org", LIST_USAGE);
  return withContext(async (ctx) => {
    const organization = await organizationBySlug(ctx, slug);
    const now = ctx.now();
    const views = (await listDomains(ctx.store.db, organization.id)).map((d) => toDomainView(d, now));
    if (values.json) {
      printJson(views);
      return 0;
    }
    if (views.length === 0) {
      process.stdout.write("No domains.\n");
      return 0;
    }
    process.stdout.write(
      table(
        ["DOMAIN", "STATE", "ACTIVE", "BY", "LAST CHECK", "TXT NAME", "TXT VALUE"],
        views.map((d) => [
          d.displayName,
          d.state,
          d.active ? "yes" : "no",
          d.verifiedBy ?? "-",
          d.lastCheckedAt ? `${d.lastCheckedAt} ${d.lastCheckOutcome ?? ""}`.trim() : "-",
          d.record.name,
          d.record.value,
        ]),
      ),
    );
    return 0;
  });
}

async function runAdd(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    org: { type: "string" },
    domain: { type: "string" },
    verified: { type: "boolean" },
  });
  if (values.help) return help(ADD_USAGE);
  const slug = required(values, "org", ADD_USAGE);
  const input = required(values, "domain", ADD_USAGE);
  return withContext(async (ctx) => {
    const organization = await organizationBySlug(ctx, slug);
    const added = await addDomain(ctx, operator(organization), input, {
      operatorVerified: values.verified === true,
    });
    const shown = displayDomain(added.domain);
    if (added.state === "verified") {
      process.stdout.write(
        `Verified ${shown} for ${organization.slug} as the operator (audited). It routes, enforces and provisions now.\n`,
      );
      return 0;
    }
    process.stdout.write(
      `Added ${shown} to ${organization.slug}, pending.\n${recordLines(added).replace("<slug>", organization.slug)}`,
    );
    return 0;
  });
}

async function runVerify(args: string[]): Promise<number> {
  const values = parseOptions(args, { org: { type: "string" }, domain: { type: "string" } });
  if (values.help) return help(VERIFY_USAGE);
  const slug = required(values, "org", VERIFY_USAGE);
  const input = required(values, "domain", VERIFY_USAGE);
  return withContext(async (ctx) => {
    const organization = await organizationBySlug(ctx, slug);
    const domain = await domainByName(ctx, organization, input);
    const { result } = await verifyDomain(ctx, operator(organization), domain.id);
    const shown = displayDomain(domain.domain);
    const record = toDomainView(domain, 0).record;
    switch (result.outcome) {
      case "verified":
        process.stdout.write(`${shown} is verified: the TXT record matches.\n`);
        return 0;
      case "no_record":
        process.stderr.write(
          `gatehouse: no TXT record at ${record.name} (${result.code}). Publish it, wait for DNS, and try again.\n${recordLines(domain).replace("<slug>", organization.slug)}`,
        );
        return 1;
      case "mismatch":
        process.stderr.write(
          `gatehouse: TXT records at ${record.name}, none of them ours. Found:\n${result.found.map((f) => `    ${JSON.stringify(f)}\n`).join("")}  Expected:\n    ${JSON.stringify(record.value)}\n`,
        );
        return 1;
      case "dns_error":
        process.stderr.write(`gatehouse: DNS did not answer (${result.code}). Nothing changed; try again.\n`);
        return 1;
      case "verified_elsewhere":
        process.stderr.write(`gatehouse: ${shown} is verified by another organization.\n`);
        return 1;
    }
  });
}

async function runRemove(args: string[]): Promise<number> {
  const values = parseOptions(args, { org: { type: "string" }, domain: { type: "string" } });
  if (values.help) return help(REMOVE_USAGE);
  const slug = required(values, "org", REMOVE_USAGE);
  const input = required(values, "domain", REMOVE_USAGE);
  return withContext(async (ctx) => {
    const organization = await organizationBySlug(ctx, slug);
    const domain = await domainByName(ctx, organization, input);
    await removeDomain(ctx, operator(organization), domain.id);
    process.stdout.write(`Removed ${displayDomain(domain.domain)} from ${organization.slug}.\n`);
    return 0;
  });
}

async function organizationBySlug(ctx: AppContext, slug: string): Promise<Organization> {
  const organization = await findOrganizationBySlug(ctx.store.db, slug.trim().toLowerCase());
  if (!organization) throw new GatehouseError("NOT_FOUND", `No organization with the slug "${slug}".`);
  return organization;
}

async function domainByName(
  ctx: AppContext,
  organization: Organization,
  input: string,
): Promise<OrganizationDomain> {
  const name = canonicalDomain(input);
  const domain = name ? await findDomainByName(ctx.store.db, organization.id, name) : undefined;
  if (!domain) {
    throw new GatehouseError(
      "DOMAIN_NOT_FOUND",
      `${input} is not a domain of ${organization.slug}. See: gatehouse domain list --org ${organization.slug}`,
    );
  }
  return domain;
}
