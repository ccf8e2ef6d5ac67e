import { randomBytes } from "node:crypto";
import type { AppContext } from "../../server/context.js";
import type { TokenEndpointAuthMethod } from "../../store/schema.js";
import { clientAuthentication } from "./client.js";
import { idpFetch, type ServerMetadata } from "./discover.js";
import { findGatehouseError } from "./errors.js";
import type { RelyingPartyTarget } from "./provider.js";

/**
 * What a token request with a code that cannot exist says about the client's credentials.
 * RFC 6749 §5.2: the provider authenticates the client before it looks at the grant, so
 * `invalid_grant` means the credentials were accepted; `invalid_client`, `unauthorized_client`
 * or a 401 mean they were not. Anything else (a 5xx, HTML, another error) cannot tell.
 */
export type ProbeResult =
  | { outcome: "authenticated"; method: TokenEndpointAuthMethod }
  | { outcome: "rejected"; method: TokenEndpointAuthMethod; answer: string }
  | { outcome: "inconclusive"; method: TokenEndpointAuthMethod; answer: string };

export interface ProbeCredentials extends Pick<RelyingPartyTarget, "clientSecret" | "signingKey"> {
  clientId: string;
  redirectUri: string;
}

/** The methods to try for `auto`, in order: the ones the provider advertises that use a secret. */
export function methodsToProbe(metadata: ServerMetadata): TokenEndpointAuthMethod[] {
  // OIDC Discovery 1.0 §3: an absent list means client_secret_basic only.
  const supported = metadata.token_endpoint_auth_methods_supported;
  const listed = Array.isArray(supported) ? supported : ["client_secret_basic"];
  return (["client_secret_basic", "client_secret_post"] as const).filter((m) => listed.includes(m));
}

/**
 * Sends one token request with an impossible code, through the outbound module. Only ever
 * called with metadata that passed discovery, so the token endpoint is the provider's own.
 */
export async function probeCredentials(
  ctx: AppContext,
  metadata: ServerMetadata,
  credentials: ProbeCredentials,
  method: TokenEndpointAuthMethod,
): Promise<ProbeResult> {
  const tokenEndpoint = metadata.token_endpoint;
  if (!tokenEndpoint) return { outcome: "inconclusive", method, answer: "no token endpoint" };
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code: `gatehouse-credentials-check-${randomBytes(16).toString("hex")}`,
    redirect_uri: credentials.redirectUri,
    code_verifier: randomBytes(32).toString("base64url"),
  });
  const headers = new Headers({ accept: "application/json" });
  const auth = await clientAuthentication(credentials, method);
  await auth(metadata, { client_id: credentials.clientId }, body, headers);
  let response: Response;
  try {
    response = await idpFetch(ctx)(tokenEndpoint, {
      method: "POST",
      headers: Object.fromEntries(headers),
      body,
    });
  } catch (error) {
    const own = findGatehouseError(error);
    return {
      outcome: "inconclusive",
      method,
      answer: own?.message ?? "the token endpoint could not be reached",
    };
  }
  const text = await response.text();
  let error: string | undefined;
  let description: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof parsed.error === "string") error = parsed.error.slice(0, 100);
    if (typeof parsed.error_description === "string") description = parsed.error_description.slice(0, 200);
  } catch {
    // Not JSON: only the status can speak.
  }
  const answer = [`HTTP ${response.status}`, error, description].filter(Boolean).join(": ");
  if (error === "invalid_grant") return { outcome: "authenticated", method };
  if (error === "invalid_client" || error === "unauthorized_client" || response.status === 401) {
    return { outcome: "rejected", method, answer };
  }
  return { outcome: "inconclusive", method, answer };
}
