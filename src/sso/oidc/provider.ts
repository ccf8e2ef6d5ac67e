import type { JWK } from "jose";
import { urlFor } from "../../config.js";
import type { AppContext } from "../../server/context.js";
import type { OidcConnection } from "../../store/connections.js";
import type { TokenEndpointAuthMethod } from "../../store/schema.js";

/**
 * An OpenID Provider Gatehouse signs people in through: a customer's enterprise connection,
 * or the LinkedIn social sign-in. The flow steps (start, callback, logout) take this, so both
 * kinds share one implementation of the protocol.
 */
export interface RelyingPartyTarget {
  kind: "sso" | "linkedin";
  /** `connection:<id>` or `linkedin`: the namespace of `sub` values. */
  providerKey: string;
  issuer: string;
  clientId: string;
  /** Called only when a token request is about to be made. */
  clientSecret: () => string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod | null;
  scopes: string;
  redirectUri: string;
  /** Cache key for the client configuration; changes whenever the settings change. */
  version: string;
  /** The claim that holds the email address. */
  emailClaim: string;
  /** Allowed clock difference for exp, iat and nbf. */
  clockSkewSeconds: number;
  /** For `private_key_jwt`: the private JWK, unsealed only when the configuration is built. */
  signingKey?: () => JWK;
  /** Entra ID's multi-tenant template, e.g. `https://login.microsoftonline.com/{tenantid}/v2.0`. */
  idTokenIssuerTemplate?: string;
  connection?: OidcConnection;
}

// Every start and every callback names its redirect URI: parsed once per base URL, not per call.
const callbackUrls = new WeakMap<URL, Map<string, string>>();

function callbackUrlOf(baseUrl: URL, path: string): string {
  let byPath = callbackUrls.get(baseUrl);
  if (!byPath) {
    byPath = new Map();
    callbackUrls.set(baseUrl, byPath);
  }
  let url = byPath.get(path);
  if (url === undefined) {
    url = urlFor({ baseUrl }, path);
    byPath.set(path, url);
  }
  return url;
}

/**
 * A connection as the relying party's target. `saved` false: the unsaved settings of a test,
 * whose client configuration is cached under the test's own key and forgotten after it.
 */
export function connectionTarget(
  ctx: AppContext,
  connection: OidcConnection,
  saved: boolean,
): RelyingPartyTarget {
  const { oidc } = connection;
  const { signingKeySealed } = oidc;
  return {
    kind: "sso",
    providerKey: saved ? `connection:${connection.id}` : `connection-test:${connection.id}`,
    issuer: oidc.issuer,
    clientId: oidc.clientId,
    clientSecret: () => ctx.box.open(oidc.clientSecretSealed, `connection:${connection.id}`),
    tokenEndpointAuthMethod: oidc.tokenEndpointAuthMethod,
    scopes: oidc.scopes,
    redirectUri: callbackUrlOf(ctx.config.baseUrl, "sso/oidc/callback"),
    version: saved ? `${connection.id}:${connection.updatedAt}` : `connection-test:${connection.id}`,
    emailClaim: oidc.emailClaim,
    clockSkewSeconds: oidc.clockSkewSeconds,
    ...(signingKeySealed
      ? {
          signingKey: () =>
            JSON.parse(ctx.box.open(signingKeySealed, `connection-key:${connection.id}`)) as JWK,
        }
      : {}),
    ...(oidc.idTokenIssuer ? { idTokenIssuerTemplate: oidc.idTokenIssuer } : {}),
    connection,
  };
}

export function linkedinTarget(ctx: AppContext): RelyingPartyTarget | undefined {
  const { issuer, clientId, clientSecret } = ctx.config.linkedin;
  if (!clientId || !clientSecret) return undefined;
  return {
    kind: "linkedin",
    providerKey: "linkedin",
    issuer,
    clientId,
    clientSecret: () => clientSecret,
    tokenEndpointAuthMethod: null,
    scopes: "openid email profile",
    redirectUri: callbackUrlOf(ctx.config.baseUrl, "login/linkedin/callback"),
    version: `linkedin:${issuer}:${clientId}`,
    emailClaim: "email",
    clockSkewSeconds: 60,
  };
}
