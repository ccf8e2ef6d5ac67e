import assert from "node:assert/strict";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createConnection } from "../../src/connections/create.js";
import type { ConnectionView } from "../../src/connections/view.js";
import { type DevIdp, type DevIdpUser, demoIdpSetup, startDevIdp } from "../../src/dev-idp/server.js";
import { type Answer, type Browser, csrfToken } from "./browserless.js";
import type { TestGatehouse } from "./gatehouse.js";

export const ADMIN = { email: "admin@acme.test", password: "correct horse battery staple" };

export async function startIdp(gh: TestGatehouse, extraUsers: DevIdpUser[] = []): Promise<DevIdp> {
  const setup = demoIdpSetup(`${gh.url}/`);
  return startDevIdp({ port: 0, clients: setup.clients, users: [...setup.users, ...extraUsers] });
}

export async function seedAcme(gh: TestGatehouse): Promise<{ organizationId: string; adminUserId: string }> {
  const { organization, adminUserId } = await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
  });
  return { organizationId: organization.id, adminUserId };
}

export async function connectAcme(
  gh: TestGatehouse,
  idp: DevIdp,
  organizationId: string,
  domains = ["acme.test"],
): Promise<ConnectionView> {
  const { connection } = await createConnection(gh.ctx, {
    organizationId,
    input: {
      name: "Acme Okta",
      issuer: idp.issuer,
      clientId: "gatehouse-okta",
      clientSecret: "gatehouse-okta-secret",
      domains,
    },
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
