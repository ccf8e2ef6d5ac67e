import { safeReturnTo } from "../../domain/return-to.js";

/** SAML bindings 3.4.3: a RelayState MUST NOT exceed 80 bytes. */
const MAX_RELAY_STATE_BYTES = 80;

/**
 * The RelayState that comes back with a response, read as a place to land: only ever a
 * same-origin path, by the same rule as `return_to` (anything else lands on the home page).
 * SP-initiated sign-ins send an opaque transaction handle instead (see buildAuthnRequest);
 * this is for IdP-initiated ones, where the IdP chooses the RelayState. One longer than the
 * binding allows is no RelayState an IdP may send, so it is not followed either.
 */
export function relayStateReturnTo(relayState: unknown): string {
  if (typeof relayState !== "string" || Buffer.byteLength(relayState, "utf8") > MAX_RELAY_STATE_BYTES) {
    return "/";
  }
  return safeReturnTo(relayState, "/");
}
