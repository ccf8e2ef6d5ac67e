import { emailDomain, normalizeDomain, normalizeEmail } from "./email.js";

/**
 * How `/sso/start` finds the connection to send a browser to. Pure: no I/O, unit-tested with a
 * table of cases (test/security/sso-routing.test.ts).
 *
 * Only names that an organization cannot take from another one route:
 *  - a work email, by its domain: only a domain its organization has verified routes;
 *  - a bare domain (`acme.com`), the same way;
 *  - an organization's slug (`?organization=acme`, or `acme` typed on the SSO screen), which the
 *    operator assigns: the organization's own sign-in URL, optionally naming one of its
 *    connections (`&connection=<name>`).
 * A connection name on its own never routes: names are chosen by each organization's admin,
 * so another organization could name its connection "Acme" and receive Acme's people.
 */
export type SsoRoute =
  | { by: "email"; email: string; domain: string }
  | { by: "domain"; domain: string }
  | { by: "organization"; slug: string; connectionName: string | undefined }
  | { by: "nothing" }
  | { by: "unroutable" };

export interface SsoEntry {
  /** `?email=`: what the SSO screen's box sends, an email or anything else typed there. */
  email: string;
  /** `?organization=<slug>`. */
  organization: string;
  /** `?connection=`: a connection name (with `organization`), else a slug or a domain. */
  connection: string;
}

// The organization slug rule (src/accounts/organizations.ts).
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function routeSsoEntry(entry: SsoEntry): SsoRoute {
  const organization = entry.organization.trim().toLowerCase();
  const connection = entry.connection.trim();
  if (organization) {
    if (!SLUG.test(organization)) return { by: "unroutable" };
    return { by: "organization", slug: organization, connectionName: connection || undefined };
  }
  const entered = entry.email.trim() || connection;
  if (!entered) return { by: "nothing" };
  if (entered.includes("@")) {
    const email = normalizeEmail(entered);
    return email ? { by: "email", email, domain: emailDomain(email) } : { by: "unroutable" };
  }
  const lowered = entered.toLowerCase();
  if (SLUG.test(lowered)) return { by: "organization", slug: lowered, connectionName: undefined };
  const domain = normalizeDomain(entered);
  if (domain) return { by: "domain", domain };
  return { by: "unroutable" };
}
