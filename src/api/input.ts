/**
 * Request shapes are checked by the route schemas (see validation.ts); what remains here is
 * what a route checks itself before a lookup.
 */
export { isUuid } from "../domain/ids.js";
