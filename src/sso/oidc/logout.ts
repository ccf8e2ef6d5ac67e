import * as client from "openid-client";
import type { AppContext } from "../../server/context.js";
import type { OidcConnection } from "../../store/connections.js";
import { clientConfiguration } from "./client.js";
import { connectionTarget } from "./provider.js";

/**
 * RP-Initiated Logout 1.0: when the IdP publishes `end_session_endpoint`, the browser goes
 * there with `id_token_hint`, `client_id`, `postLogoutUrl` (the home page, which
 * the admin registered as the sign-out redirect URI) and `state`, which the home page checks
 * when the browser comes back (§3; several providers return only when `state` was sent).
 * Undefined when it publishes none.
 */
export async function endSessionUrl(
  ctx: AppContext,
  connection: OidcConnection,
  idToken: string,
  state: string,
  postLogoutUrl: string,
): Promise<string | undefined> {
  const config = await clientConfiguration(ctx, connectionTarget(ctx, connection, true));
  if (!config.serverMetadata().end_session_endpoint) return undefined;
  return client
    .buildEndSessionUrl(config, {
      id_token_hint: idToken,
      client_id: connection.oidc.clientId,
      post_logout_redirect_uri: postLogoutUrl,
      state,
    })
    .toString();
}
