import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { sessionCookieName } from "../../src/session/cookie.js";
import type { Answer, Browser } from "../support/browserless.js";
import { verifyDomainsAsOperator } from "../support/domains.js";
import type { TestGatehouse } from "../support/gatehouse.js";

export const ADMIN_EMAIL = "admin@acme.test";
export const ADMIN_PASSWORD = "correct horse battery";

export async function seedAcme(gh: TestGatehouse): Promise<void> {
  const { organization } = await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
  });
  await verifyDomainsAsOperator(gh, organization.id, ["acme.test"]);
}

/** The home page lists the session's facts only to a signed-in browser. */
export async function isSignedIn(browser: Browser, gh: TestGatehouse): Promise<boolean> {
  const home = await browser.get(`${gh.url}/`);
  return home.body.includes('data-testid="session-facts"');
}

export function sessionCookie(browser: Browser, gh: TestGatehouse): string | undefined {
  return browser.cookies().get(sessionCookieName(gh.ctx.config));
}

export async function countSessions(gh: TestGatehouse): Promise<number> {
  const row = await gh.ctx.store.db
    .selectFrom("sessions")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * A request whose body and content type are sent exactly as given, with the browser's cookies,
 * for input a form would never produce.
 */
export async function rawPost(
  browser: Browser,
  url: string,
  body: string,
  contentType: string,
): Promise<Answer> {
  const target = new URL(url);
  const cookies = browser.cookies(target.hostname);
  const response = await fetch(target, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": contentType,
      ...(cookies.size > 0 ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
    },
    body,
  });
  return {
    status: response.status,
    url: target.toString(),
    location: response.headers.get("location") ?? undefined,
    body: await response.text(),
    headers: response.headers,
  };
}
