import type { Pool } from "undici";
import { cookiePair, describeFailure, get } from "./client.js";

const notRedirect = (status: number) => status < 300 || status >= 400;

/**
 * One complete SSO sign-in by a fresh browser, as the contract describes it: `/sso/start` (302 to
 * the IdP with the browser-binding cookie), the IdP's authorize (302 back with the code), the
 * callback with the cookie (303 with a session cookie). Returns the callback's latency in ms.
 */
export async function ssoSignIn(gatehouse: Pool, op: Pool, email: string): Promise<number> {
  const start = await get(gatehouse, `/sso/start?email=${encodeURIComponent(email)}`, {}, notRedirect);
  if (start.status !== 302 || !start.location) throw describeFailure("sso/start", start);
  const binding = cookiePair(start.setCookies, "gh_login");
  if (!binding) throw describeFailure("sso/start without gh_login cookie", start);

  const authorizeUrl = new URL(start.location);
  const authorize = await get(op, authorizeUrl.pathname + authorizeUrl.search, {}, notRedirect);
  if (authorize.status !== 302 || !authorize.location) throw describeFailure("authorize", authorize);

  const callbackUrl = new URL(authorize.location);
  const began = performance.now();
  const callback = await get(
    gatehouse,
    callbackUrl.pathname + callbackUrl.search,
    { cookie: binding },
    notRedirect,
  );
  const latency = performance.now() - began;
  if (callback.status !== 303 || !cookiePair(callback.setCookies, "gh_session")) {
    throw describeFailure("callback", callback);
  }
  return latency;
}

/** `GET /api/v1/me` with a session cookie; returns the latency in ms. */
export async function sessionCheck(gatehouse: Pool, token: string): Promise<number> {
  const began = performance.now();
  const answer = await get(gatehouse, "/api/v1/me", { cookie: `gh_session=${token}` }, (s) => s !== 200);
  const latency = performance.now() - began;
  if (answer.status !== 200) throw describeFailure("GET /api/v1/me", answer);
  return latency;
}

export async function constantRequest(pool: Pool): Promise<number> {
  const began = performance.now();
  const answer = await get(pool, "/constant", {}, (s) => s !== 200);
  const latency = performance.now() - began;
  if (answer.status !== 200) throw describeFailure("GET /constant", answer);
  return latency;
}
