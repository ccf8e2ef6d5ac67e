import assert from "node:assert/strict";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import { CHALLENGE_PREFIX } from "../../src/domain/organization-domains.js";
import { type Answer, Browser, csrfToken, passwordSignIn } from "./browserless.js";
import { startGatehouse, type TestGatehouse } from "./gatehouse.js";

const PASSWORD = "correct horse battery";
const DOMAINS_PAGE = "/admin/enterprise-authentication/domains";

export interface AddedDomain {
  id: string;
  /** As stored: lower-cased, punycode. */
  domain: string;
  record: { name: string; value: string };
}

export interface Verified {
  result: { outcome: string; found?: string[]; code?: string };
  domain: { state: string; active: boolean; lastCheckOutcome: string | null };
}

export interface VerifyingGatehouse {
  gh: TestGatehouse;
  /** A domain added by the organization, by any spelling of its name. */
  domain(name: string): AddedDomain;
  token(name: string): string;
  /** `POST /api/v1/domains/{id}/verify` with the organization's API key. */
  verify(name: string): Promise<Verified>;
  /** The admin's Verify button on Administration > Enterprise Authentication > Domains. */
  verifyOnPage(name: string): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * Gatehouse resolving through `dnsServer`, with an organization whose admin added `domains`
 * through the API. The tokens exist only once the domains are added, so a DNS server that reads
 * its records at start is started after this, on the address given here.
 */
export async function startVerifyingGatehouse(
  dnsServer: string,
  domains: readonly string[],
): Promise<VerifyingGatehouse> {
  const gh = await startGatehouse({
    env: { GATEHOUSE_DNS_SERVERS: dnsServer, GATEHOUSE_DNS_TIMEOUT_MS: "500" },
  });
  await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: "admin@acme.test",
    adminPassword: PASSWORD,
  });
  const apiKey = (await createApiKey(gh.ctx, "acme", "interop")).key;
  const admin = new Browser();
  assert.equal((await passwordSignIn(admin, gh.url, "admin@acme.test", PASSWORD)).status, 303);

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${gh.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const added = new Map<string, AddedDomain>();
  for (const name of domains) {
    const answer = await api("POST", "/domains", { domain: name });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const body = answer.body as unknown as AddedDomain;
    added.set(body.domain, body);
  }
  const domain = (name: string) => {
    const found = added.get(name.toLowerCase());
    assert.ok(found, `${name} was added`);
    return found;
  };

  return {
    gh,
    domain,
    token: (name) => domain(name).record.value.slice(CHALLENGE_PREFIX.length),
    async verify(name) {
      const answer = await api("POST", `/domains/${domain(name).id}/verify`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body as unknown as Verified;
    },
    async verifyOnPage(name) {
      const page = await admin.get(`${gh.url}${DOMAINS_PAGE}`);
      return admin.post(`${gh.url}${DOMAINS_PAGE}/${domain(name).id}/verify`, {
        _csrf: csrfToken(page.body),
      });
    },
    close: () => gh.close(),
  };
}
