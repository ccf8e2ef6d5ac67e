import { safeReturnTo } from "../../domain/return-to.js";

/**
 * The RelayState that comes back with a response, read as a place to land: only ever a
 * same-origin path, by the same rule as `return_to` (anything else lands on the home page).
 * SP-initiated sign-ins send an opaque transaction handle instead (see buildAuthnRequest);
 * this is for IdP-initiated ones, where the IdP chooses the RelayState.
 */
export function relayStateReturnTo(relayState: unknown): string {
  return safeReturnTo(relayState, "/");
}
