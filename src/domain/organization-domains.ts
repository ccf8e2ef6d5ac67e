/**
 * Domains an organization has proven it owns, and what a connection may do with them.
 * Pure functions: no I/O, unit-tested with tables of cases (test/foundation/organization-domains.test.ts).
 *
 * The rule that closes the account takeover: routing, SSO enforcement, just-in-time provisioning
 * and linking an account by email happen only for a domain the connection's organization has
 * verified (or that is failing re-verification, within the grace period). A domain listed on a
 * connection but still pending does nothing.
 */
import { createRequire } from "node:module";
import { domainToASCII, domainToUnicode } from "node:url";
import { parse } from "tldts";
import { emailDomain, normalizeDomain } from "./email.js";

export type DomainState = "pending" | "verified" | "failing";
export type VerifiedBy = "dns" | "operator";

/** What the rules need to know about one organization domain. */
export interface DomainStatus {
  organizationId: string;
  domain: string;
  state: DomainState;
  /** When the state turned `failing`; null otherwise. */
  failingSince: number | null;
}

/** A verified domain whose record disappeared keeps working this long, so a DNS mistake can be fixed. */
export const FAILING_GRACE_MS = 7 * 24 * 3600 * 1000;

export const CHALLENGE_LABEL = "_gatehouse-challenge";
export const CHALLENGE_PREFIX = "gatehouse-domain-verification=";

// The list is JSON in the package; `createRequire` reads it the same way from src/ and dist/.
const consumerMailDomains: ReadonlySet<string> = new Set(
  (createRequire(import.meta.url)("email-providers/common.json") as string[]).map((d) => d.toLowerCase()),
);

export type DomainRefusal = "invalid" | "public_suffix" | "consumer_mail";

export type ClaimableDomain = { ok: true; domain: string } | { ok: false; reason: DomainRefusal };

/**
 * The stored form of a domain an admin types: trimmed, lower-cased, trailing dot stripped, an
 * internationalized name in punycode (`bücher.example` → `xn--bcher-kva.example`). Undefined
 * when it is not a DNS name a company could own.
 */
export function canonicalDomain(input: string): string | undefined {
  let raw = input.trim();
  if (raw.endsWith(".")) raw = raw.slice(0, -1);
  // Refuse anything that is plainly not a host name before the WHATWG parser forgives it
  // (it would turn `acme.test/x` or `user@acme.test` into something else).
  if (raw === "" || /[\s/@:\\?#[\]%]/.test(raw)) return undefined;
  const ascii = domainToASCII(raw);
  if (ascii === "") return undefined;
  return normalizeDomain(ascii);
}

/** How a stored (punycode) domain is shown to people. */
export function displayDomain(domain: string): string {
  return domainToUnicode(domain) || domain;
}

/**
 * May an organization claim this domain at all? Public suffixes (`com`, `co.uk`, `github.io`)
 * name no single owner; consumer mail domains (`gmail.com`) belong to their users, not to a
 * company that happens to control a TXT record there.
 */
export function checkClaimableDomain(input: string): ClaimableDomain {
  const domain = canonicalDomain(input);
  if (!domain) {
    // A bare top-level domain (`com`) fails the two-label rule; say why rather than "invalid".
    const bare = domainToASCII(input.trim().replace(/\.$/, ""));
    return {
      ok: false,
      reason: bare && parse(bare).isIcann && !bare.includes(".") ? "public_suffix" : "invalid",
    };
  }
  // Private suffixes count too: anyone can register under `github.io` or `herokuapp.com`.
  const parsed = parse(domain, { allowPrivateDomains: true });
  if (parsed.isIp || !parsed.domain || parsed.publicSuffix === domain) {
    return { ok: false, reason: "public_suffix" };
  }
  if (consumerMailDomains.has(domain)) return { ok: false, reason: "consumer_mail" };
  return { ok: true, domain };
}

/** Why a domain was refused, in words an admin can act on. */
export function describeRefusal(input: string, reason: DomainRefusal): string {
  const shown = input.trim().slice(0, 100);
  switch (reason) {
    case "invalid":
      return `"${shown}" is not a domain name. Enter the part after the @ in your email addresses, such as acme.com.`;
    case "public_suffix":
      return `${shown} is a public suffix: no single organization owns it. Enter your own domain, such as acme.com.`;
    case "consumer_mail":
      return `${shown} is a public email provider: its addresses belong to their users, not to one organization. Enter your company's own domain.`;
  }
}

/**
 * Does this domain route, enforce, provision and link right now? Verified: yes. Failing
 * re-verification: yes during the grace period, so a DNS mistake does not lock a company out
 * overnight. Pending: never.
 */
export function isDomainActive(status: Pick<DomainStatus, "state" | "failingSince">, now: number): boolean {
  if (status.state === "verified") return true;
  if (status.state === "failing") {
    return status.failingSince !== null && now - status.failingSince < FAILING_GRACE_MS;
  }
  return false;
}

/** The domains of `organizationId` that are active now, among those a connection lists. */
export function activeDomains(
  organizationId: string,
  statuses: readonly DomainStatus[],
  now: number,
): string[] {
  return statuses
    .filter((s) => s.organizationId === organizationId && isDomainActive(s, now))
    .map((s) => s.domain);
}

/**
 * Does the organization's sign-in link (`/sso/start?organization=<slug>`) lead anywhere through
 * this connection? Only when it is enabled and one of its domains is active: otherwise the
 * callback would refuse every email it asserts.
 */
export function connectionRoutesSignIns(
  connection: { status: string; organizationId: string; domainStatuses: readonly DomainStatus[] },
  now: number,
): boolean {
  return (
    connection.status === "enabled" &&
    activeDomains(connection.organizationId, connection.domainStatuses, now).length > 0
  );
}

/**
 * May this connection route, enforce on, provision or link this email? Only when the email's
 * domain is listed on the connection AND is an active domain of the connection's own
 * organization. Exact match, no subdomains: `eu.acme.com` is a domain of its own.
 */
export function mayConnectionActForEmail(
  connection: { organizationId: string; domainStatuses: readonly DomainStatus[] },
  email: string,
  now: number,
): boolean {
  const domain = emailDomain(email);
  return activeDomains(connection.organizationId, connection.domainStatuses, now).includes(domain);
}

/** The TXT record an organization publishes to prove it owns `domain`. */
export function challengeRecord(domain: string, token: string): { name: string; value: string } {
  return { name: `${CHALLENGE_LABEL}.${domain}`, value: `${CHALLENGE_PREFIX}${token}` };
}

export type TxtMatch = { matched: true } | { matched: false; found: string[] };

/**
 * Compares the TXT records at the challenge name with the expected value. A record split into
 * several strings (RFC 7208 §3.3 style, for values over 255 bytes or by a DNS console) is one
 * value once joined. Other records at the name (another product's challenge) are ignored; the
 * ones that look like ours are returned so the admin sees a zone appended twice or quotes added.
 */
export function matchChallenge(records: readonly (readonly string[])[], expected: string): TxtMatch {
  const values = records.map((chunks) => chunks.join(""));
  if (values.some((v) => v.trim() === expected)) return { matched: true };
  const ours = values.filter((v) => v.toLowerCase().includes("gatehouse"));
  return {
    matched: false,
    found: (ours.length > 0 ? ours : values).slice(0, 10).map((v) => v.slice(0, 300)),
  };
}

export type CheckOutcome = "verified" | "no_record" | "mismatch" | "dns_error";

export interface DomainTransition {
  state: DomainState;
  failingSince: number | null;
  /** Set when the domain turns verified by DNS now. */
  verifiedNow: boolean;
}

/**
 * The state after a DNS check. A pending domain becomes verified on a match and stays pending
 * otherwise. A verified domain whose record is gone (or no longer matches) turns failing; a DNS
 * failure (SERVFAIL, timeout) says nothing about ownership and changes nothing. A failing domain
 * recovers on a match and otherwise stays failing from when it first failed; the grace period
 * in `isDomainActive` decides when it stops working.
 */
export function transitionAfterCheck(
  current: Pick<DomainStatus, "state" | "failingSince">,
  outcome: CheckOutcome,
  now: number,
): DomainTransition {
  if (outcome === "verified") {
    return { state: "verified", failingSince: null, verifiedNow: current.state === "pending" };
  }
  if (outcome === "dns_error" || current.state === "pending") {
    return { state: current.state, failingSince: current.failingSince, verifiedNow: false };
  }
  return { state: "failing", failingSince: current.failingSince ?? now, verifiedNow: false };
}
