import * as client from "openid-client";
import { chooseTokenEndpointAuthMethod } from "../../connections/create.js";
import type { AppContext } from "../../server/context.js";
import { discoverIssuer, idpFetch } from "./discover.js";
import type { RelyingPartyTarget } from "./provider.js";

/** OIDC Core 3.1.3.7 steps 9-10: the bound on clock skew Gatehouse accepts for exp and iat. */
export const CLOCK_TOLERANCE_SECONDS = 60;

const configurations = new Map<string, { config: client.Configuration; createdAt: number }>();
const CONFIG_TTL_MS = 60 * 60 * 1000;

/**
 * The openid-client configuration for a target, built once per settings version and kept so
 * that its JWKS cache survives between sign-ins. Gatehouse's rules are stricter than the
 * library's defaults: the ID token's signature is always verified against the issuer's JWKS
 * even though it came straight from the token endpoint over TLS (PRODUCT.md, Rules) — by
 * id-token.ts, with a stricter key policy than openid-client's — and `allowInsecureRequests`
 * is set only where GATEHOUSE_ALLOW_PRIVATE_ISSUERS=1 permits http: issuers.
 */
export async function clientConfiguration(
  ctx: AppContext,
  target: RelyingPartyTarget,
): Promise<client.Configuration> {
  const cached = configurations.get(target.version);
  if (cached && ctx.now() - cached.createdAt < CONFIG_TTL_MS) return cached.config;

  const metadata = await discoverIssuer(ctx, target.issuer);
  const method =
    target.tokenEndpointAuthMethod ??
    chooseTokenEndpointAuthMethod(metadata.token_endpoint_auth_methods_supported) ??
    "client_secret_basic";
  // The secret is read from the sealed column only at token time, never kept in the cache.
  const clientAuth: client.ClientAuth = (as, clientMetadata, body, headers) => {
    const secret = target.clientSecret();
    const auth =
      method === "client_secret_post" ? client.ClientSecretPost(secret) : client.ClientSecretBasic(secret);
    auth(as, clientMetadata, body, headers);
  };
  const config = new client.Configuration(
    metadata,
    target.clientId,
    { [client.clockTolerance]: CLOCK_TOLERANCE_SECONDS },
    clientAuth,
  );
  config[client.customFetch] = idpFetch(ctx);
  // openid-client's own deadline (seconds) only backs up the outbound module's.
  config.timeout = Math.ceil(ctx.config.idpTimeoutMs / 1000);
  if (ctx.config.allowPrivateIssuers && target.issuer.startsWith("http:"))
    client.allowInsecureRequests(config);
  configurations.set(target.version, { config, createdAt: ctx.now() });
  return config;
}

export function forgetConfiguration(version: string): void {
  configurations.delete(version);
}
