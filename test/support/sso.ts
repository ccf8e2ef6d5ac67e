import assert from "node:assert/strict";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createConnection } from "../../src/connections/create.js";
import type { ConnectionInput } from "../../src/connections/validate.js";
import type { ConnectionView } from "../../src/connections/view.js";
import {
  type DevIdp,
  type DevIdpQuirks,
  type DevIdpUser,
  demoIdpSetup,
  startDevIdp,
} from "../../src/dev-idp/server.js";
import { type Answer, type Browser, csrfToken } from "./browserless.js";
import { verifyDomainsAsOperator } from "./domains.js";
import { freePort, type StartOptions, startGatehouse, type TestGatehouse } from "./gatehouse.js";

export const ADMIN = { email: "admin@acme.test", password: "correct horse battery staple" };

export async function startIdp(
  gh: TestGatehouse,
  extraUsers: DevIdpUser[] = [],
  quirks: DevIdpQuirks = {},
): Promise<DevIdp> {
  const setup = demoIdpSetup(`${gh.url}/`);
  return startDevIdp({ port: 0, clients: setup.clients, users: [...setup.users, ...extraUsers], quirks });
}

export async function seedAcme(gh: TestGatehouse): Promise<{ organizationId: string; adminUserId: string }> {
  const { organization, adminUserId } = await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
  });
  // As in the demo: the operator has verified acme.test, so connections for it route at once.
  await verifyDomainsAsOperator(gh, organization.id, ["acme.test"]);
  return { organizationId: organization.id, adminUserId };
}

/** The Setup page's five fields for the development IdP's Okta stand-in. */
export function acmeOktaInput(idp: DevIdp, domains = ["acme.test"]): ConnectionInput {
  return {
    name: "Acme Okta",
    issuer: idp.issuer,
    clientId: "gatehouse-okta",
    clientSecret: "gatehouse-okta-secret",
    domains,
  };
}

/**
 * Gatehouse with a development IdP whose clients know its URL, and LinkedIn sign-in pointed at
 * the IdP's second client. The port is chosen first because each side needs the other's URL.
 */
export async function startGatehouseWithIdp(
  options: StartOptions = {},
): Promise<{ gh: TestGatehouse; idp: DevIdp }> {
  const port = options.port || (await freePort());
  const idp = await startDevIdp({ port: 0, ...demoIdpSetup(`http://localhost:${port}/`) });
  const gh = await startGatehouse({
    ...options,
    port,
    env: {
      GATEHOUSE_LINKEDIN_ISSUER: idp.issuer,
      GATEHOUSE_LINKEDIN_CLIENT_ID: "gatehouse-linkedin",
      GATEHOUSE_LINKEDIN_CLIENT_SECRET: "gatehouse-linkedin-secret",
      ...options.env,
    },
  });
  return { gh, idp };
}

export async function connectAcme(
  gh: TestGatehouse,
  idp: DevIdp,
  organizationId: string,
  domains = ["acme.test"],
): Promise<ConnectionView> {
  const { connection } = await createConnection(gh.ctx, {
    organizationId,
    input: acmeOktaInput(idp, domains),
    actorUserId: null,
  });
  return connection;
}

/**
 * From an answer that redirects to the IdP: follows to its sign-in page, signs in, and stops at
 * the redirect back to Gatehouse (not followed), returning that answer.
 */
export async function signInAtIdp(
  browser: Browser,
  start: Answer,
  idp: DevIdp,
  email: string,
  password: string,
  gatehouseUrl: string,
): Promise<Answer> {
  assert.ok(
    start.location?.startsWith(idp.issuer),
    `expected a redirect to the IdP, got ${start.status} ${start.location ?? ""}`,
  );
  const backHome = (url: string) => url.startsWith(gatehouseUrl);
  let page = await browser.follow(start, backHome);
  if (page.location && backHome(page.location)) return page; // the IdP already had a session
  assert.equal(page.status, 200, `IdP sign-in page expected, got ${page.status}`);
  const action = /<form method="post" action="([^"]+\/login)"/.exec(page.body)?.[1];
  assert.ok(action, "IdP login form not found");
  page = await browser.post(new URL(action, page.url).toString(), { email, password });
  page = await browser.follow(page, backHome);
  assert.ok(
    page.location && backHome(page.location),
    `expected a redirect back to Gatehouse, got ${page.status} ${page.location ?? ""}`,
  );
  return page;
}

/** Email-first SSO sign-in through /login; returns Gatehouse's answer to the callback. */
export async function ssoSignIn(
  browser: Browser,
  gh: TestGatehouse,
  idp: DevIdp,
  email: string,
  password: string,
): Promise<Answer> {
  const login = await browser.get(`${gh.url}/login`);
  const start = await browser.post(`${gh.url}/login`, { _csrf: csrfToken(login.body), email });
  const back = await signInAtIdp(browser, start, idp, email, password, gh.url);
  return browser.get(back.location as string);
}
