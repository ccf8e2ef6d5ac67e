import * as jose from "jose";
import * as client from "openid-client";
import { chooseTokenEndpointAuthMethod } from "../../connections/create.js";
import { ENTRA_ORIGIN } from "../../domain/provider-claims.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { clientSecretBasic, clientSecretPost } from "./client-auth.js";
import { discoverIssuer, idpFetch } from "./discover.js";
import type { RelyingPartyTarget } from "./provider.js";

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
  const clientAuth = await clientAuthentication(target, method);
  const clientMetadata = { [client.clockTolerance]: target.clockSkewSeconds };
  // Entra ID's multi-tenant issuers: openid-client checks `iss` against the template with the
  // token's `tid` only for a configuration it discovered at Microsoft's origin. It is handed the
  // document discover.ts already fetched and checked, under that origin and the issuer's path
  // (the same URL for Entra ID itself), so no second unguarded fetch happens and a template
  // served elsewhere (only with GATEHOUSE_ALLOW_PRIVATE_ISSUERS) is checked the same way.
  const config = target.idTokenIssuerTemplate
    ? await client.discovery(
        new URL(new URL(target.issuer).pathname, ENTRA_ORIGIN),
        target.clientId,
        clientMetadata,
        clientAuth,
        { [client.customFetch]: async () => Response.json(metadata) },
      )
    : new client.Configuration(metadata, target.clientId, clientMetadata, clientAuth);
  config[client.customFetch] = idpFetch(ctx);
  // openid-client's own deadline (seconds) only backs up the outbound module's.
  config.timeout = Math.ceil(ctx.config.idpTimeoutMs / 1000);
  if (ctx.config.allowPrivateIssuers && target.issuer.startsWith("http:"))
    client.allowInsecureRequests(config);
  configurations.set(target.version, { config, createdAt: ctx.now() });
  return config;
}

/**
 * How the client proves itself at the token endpoint. A client secret is read from its sealed
 * column only at token time and never kept in the cache; a `private_key_jwt` key is imported
 * once, non-extractable, when the configuration is built (RFC 7523 client assertion).
 */
export async function clientAuthentication(
  target: Pick<RelyingPartyTarget, "clientSecret" | "signingKey">,
  method: string,
): Promise<client.ClientAuth> {
  if (method === "private_key_jwt") {
    if (!target.signingKey)
      throw new GatehouseError("INTERNAL", "private_key_jwt connection without a signing key");
    const jwk = target.signingKey();
    const key = (await jose.importJWK(jwk, jwk.alg ?? "RS256", { extractable: false })) as CryptoKey;
    return client.PrivateKeyJwt({ key, ...(jwk.kid ? { kid: jwk.kid } : {}) });
  }
  return (as, clientMetadata, body, headers) => {
    const secret = target.clientSecret();
    const auth = method === "client_secret_post" ? clientSecretPost(secret) : clientSecretBasic(secret);
    auth(as, clientMetadata, body, headers);
  };
}

export function forgetConfiguration(version: string): void {
  configurations.delete(version);
}
