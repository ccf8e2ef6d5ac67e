import { emailDomain } from "../domain/email.js";
import { activeDomains, mayConnectionActForEmail } from "../domain/organization-domains.js";
import { GatehouseError } from "../errors.js";
import type { Connection } from "../store/connections.js";
import type { SignInAttempt } from "./adapter.js";

/**
 * The takeover rule, for every protocol: a connection may only assert addresses at domains its
 * organization has proven it owns. A domain the connection lists but has not verified (or whose
 * verification has failed past its grace period) is not one of its domains.
 */
export function checkEmailDomain(
  connection: Connection,
  email: string,
  now: number,
  attempt: SignInAttempt,
): void {
  const domain = emailDomain(email);
  const allowed = activeDomains(connection.organizationId, connection.domainStatuses, now);
  const expected =
    allowed.length > 0 ? `one of ${allowed.join(", ")}` : "a verified domain (none is verified yet)";
  if (!mayConnectionActForEmail(connection, email, now)) {
    const listed = connection.domainStatuses.find((d) => d.domain === domain);
    const state = listed?.state === "pending" ? "not verified" : "failing verification";
    throw new GatehouseError(
      "SSO_EMAIL_DOMAIN_NOT_ALLOWED",
      "The connection may not sign in this email address.",
      {
        detail: listed
          ? `the IdP asserted ${email}; domain ${domain} is listed on the connection but ${listed.state === "pending" ? "not verified" : "failing verification past its grace period"} for the organization`
          : `the IdP asserted ${email}; domain ${domain} is not one of the connection's domains (${connection.domains.join(", ")})`,
        check: {
          check: "email_domain",
          expected,
          received: listed ? `${domain} (listed, ${state})` : domain,
        },
      },
    );
  }
  attempt.pass("email_domain", expected, domain);
}
