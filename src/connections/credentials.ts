import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import type { ServerMetadata } from "../sso/oidc/discover.js";
import {
  methodsToProbe,
  type ProbeCredentials,
  type ProbeResult,
  probeCredentials,
} from "../sso/oidc/probe.js";
import type { TokenEndpointAuthMethod } from "../store/schema.js";
import type { TokenEndpointAuthMethodChoice } from "./validate.js";

export interface CredentialsCheck {
  /** What to store: the method that authenticated, or null to keep choosing at sign-in (`auto`). */
  method: TokenEndpointAuthMethod | null;
  /** Said to the admin when the provider's answer could not tell, or the check was not possible. */
  note?: string | undefined;
}

/**
 * Asks the token endpoint whether the client's credentials are accepted, before anything is
 * saved (probe.ts). With `auto`, each method the provider advertises is tried in turn and the
 * first one that authenticates is stored. When every answer is a refusal, the admin gets a
 * field error on the client secret that quotes the provider. The metadata must come from a
 * discovery that succeeded: a provider that failed discovery is never sent credentials.
 */
export async function checkCredentials(
  ctx: AppContext,
  metadata: ServerMetadata,
  credentials: ProbeCredentials,
  choice: TokenEndpointAuthMethodChoice,
): Promise<CredentialsCheck> {
  if (choice === "private_key_jwt") {
    return {
      method: "private_key_jwt",
      note: "Register the JWKS URL at your identity provider, then run a test sign-in: the key cannot be checked before the provider knows it.",
    };
  }
  const candidates = choice === "auto" ? methodsToProbe(metadata) : [choice];
  const results: ProbeResult[] = [];
  for (const method of candidates) {
    const result = await probeCredentials(ctx, metadata, credentials, method);
    if (result.outcome === "authenticated") return { method };
    results.push(result);
  }
  const unclear = results.find((r) => r.outcome === "inconclusive");
  if (unclear) {
    return {
      method: choice === "auto" ? null : choice,
      note: `Gatehouse could not tell whether your identity provider accepts the Client ID and secret (its token endpoint answered "${quote(unclear.answer)}"). Run a test sign-in to be sure.`,
    };
  }
  const answers = results
    .map((r) => `${r.method}: "${quote(r.outcome === "rejected" ? r.answer : "")}"`)
    .join("; ");
  throw new GatehouseError(
    "VALIDATION_FAILED",
    "The identity provider did not accept the Client ID and secret.",
    {
      detail: `credentials refused at the token endpoint (${answers})`,
      fields: {
        clientSecret: `Your identity provider refused this Client ID and secret (${answers}). Check both, and that the secret has not expired.`,
      },
    },
  );
}

function quote(answer: string): string {
  return answer.replace(/\s+/g, " ").slice(0, 300);
}
