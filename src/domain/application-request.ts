/**
 * An application's sign-in request travels through Gatehouse's own sign-in as a `return_to`:
 * the interaction that resumes it (src/provider/interaction.ts). Every page of the sign-in
 * already carries `return_to` unchanged (the email step, the SSO screen, a connection choice, a
 * refusal's buttons), so what the request needs of the sign-in travels with it there.
 */

/** Where oidc-provider sends the browser when an application's request needs a person. */
export const INTERACTION_PATH = "/oidc/interaction";

const FRESH = "reauthenticate";

/**
 * The `return_to` of an application's request. `reauthenticate`: the application asked for
 * `prompt=login` or a `max_age` the session is too old for, so whichever way the person takes
 * to an IdP, the IdP is asked to sign them in afresh.
 */
export function interactionReturnTo(uid: string, reauthenticate: boolean): string {
  const path = `${INTERACTION_PATH}/${encodeURIComponent(uid)}`;
  return reauthenticate ? `${path}?${FRESH}=1` : path;
}

function parsed(returnTo: string): URL | undefined {
  try {
    return new URL(returnTo, "http://gatehouse.invalid");
  } catch {
    return undefined;
  }
}

/**
 * Whether a sign-in that lands on `returnTo` must ask its IdP to sign the person in afresh.
 * Only ever a request for more: a `return_to` without it (or a person removing it) yields a
 * session that does not count as a fresh sign-in, which the interaction does not accept.
 */
export function returnToAsksFreshSignIn(returnTo: string): boolean {
  const url = parsed(returnTo);
  return url?.pathname.startsWith(`${INTERACTION_PATH}/`) === true && url.searchParams.get(FRESH) === "1";
}

/** The interaction a `return_to` resumes, when it is an application's request. */
export function interactionUidOf(returnTo: string): string | undefined {
  const url = parsed(returnTo);
  if (!url?.pathname.startsWith(`${INTERACTION_PATH}/`)) return undefined;
  const uid = url.pathname.slice(INTERACTION_PATH.length + 1);
  return /^[A-Za-z0-9_-]{1,64}$/.test(uid) ? uid : undefined;
}
