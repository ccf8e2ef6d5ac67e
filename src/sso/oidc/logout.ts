import type { AppContext } from "../../server/context.js";
import type { Connection } from "../../store/connections.js";

/** RP-initiated logout 1.0: the IdP's end_session_endpoint with id_token_hint and the home page. */
export async function endSessionUrl(
  _ctx: AppContext,
  _connection: Connection,
  _idToken: string,
): Promise<string | undefined> {
  return undefined;
}
