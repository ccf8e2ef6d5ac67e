import { addDomain } from "../../src/domains/add.js";
import type { TestGatehouse } from "./gatehouse.js";

/**
 * Verifies domains for an organization the operator's way (`domain add --verified`), as the
 * demo does for acme.test: tests of sign-in need a domain that routes, without a DNS zone.
 */
export async function verifyDomainsAsOperator(
  gh: TestGatehouse,
  organizationId: string,
  domains: readonly string[],
): Promise<void> {
  for (const domain of domains) {
    await addDomain(gh.ctx, { organizationId, actorUserId: null }, domain, { operatorVerified: true });
  }
}
