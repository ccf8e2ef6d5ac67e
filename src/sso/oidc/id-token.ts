import * as jose from "jose";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { CLOCK_TOLERANCE_SECONDS } from "./client.js";
import { idpFetch, type ServerMetadata } from "./discover.js";
import { findGatehouseError } from "./errors.js";

/**
 * Signature verification of the ID token against the issuer's JWKS (OIDC Core 3.1.3.7 step 6),
 * done here with jose's remote key set rather than left to openid-client, because Gatehouse
 * needs a stricter key policy than the library's defaults:
 *  - asymmetric algorithms only: `none` and HMAC with the client secret are never accepted;
 *  - a `kid` that is not in the cached JWKS triggers one refetch, at most once per issuer per
 *    REFETCH_COOLDOWN_MS, so made-up `kid`s cannot make Gatehouse hammer a provider;
 *  - no `kid` is accepted only when exactly one key in the JWKS could have signed the token;
 *  - imported keys stay cached per JWK, so no sign-in re-parses a key.
 */
export const ALLOWED_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];
export const REFETCH_COOLDOWN_MS = 5_000;
const JWKS_MAX_AGE_MS = 10 * 60 * 1000;

const keySets = new Map<string, ReturnType<typeof jose.createRemoteJWKSet>>();

function keySetFor(ctx: AppContext, jwksUri: string) {
  let keySet = keySets.get(jwksUri);
  if (!keySet) {
    keySet = jose.createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: REFETCH_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      timeoutDuration: 10_000,
      [jose.customFetch]: (url, init) => {
        const fetcher = idpFetch(ctx);
        return fetcher(url, {
          method: init.method,
          headers: Object.fromEntries(init.headers),
          signal: init.signal,
        });
      },
    });
    keySets.set(jwksUri, keySet);
  }
  return keySet;
}

export async function verifyIdTokenSignature(
  ctx: AppContext,
  metadata: ServerMetadata,
  expected: { issuer: string; clientId: string },
  idToken: string,
): Promise<jose.JWTPayload> {
  if (!metadata.jwks_uri) throw invalid("the issuer publishes no jwks_uri");
  const keySet = keySetFor(ctx, metadata.jwks_uri);
  const strictKeySet: jose.JWTVerifyGetKey = async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      if (error instanceof jose.errors.JWKSMultipleMatchingKeys) {
        throw invalid(`the ID token has no "kid" and the JWKS holds several keys that could have signed it`);
      }
      throw error;
    }
  };
  try {
    const { payload } = await jose.jwtVerify(idToken, strictKeySet, {
      algorithms: ALLOWED_ALGORITHMS,
      issuer: expected.issuer,
      audience: expected.clientId,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(ctx.now()),
    });
    return payload;
  } catch (error) {
    throw describe(error);
  }
}

function describe(error: unknown): GatehouseError {
  const own = findGatehouseError(error);
  if (own) {
    return own.code === "SSO_OUTBOUND_FAILED" || own.code === "SSO_ISSUER_NOT_ALLOWED"
      ? new GatehouseError("SSO_OUTBOUND_FAILED", own.message, {
          detail: `JWKS: ${own.detail ?? own.message}`,
          cause: error,
        })
      : own;
  }
  if (error instanceof jose.errors.JWSSignatureVerificationFailed)
    return invalid("ID token signature invalid", error);
  if (error instanceof jose.errors.JWKSNoMatchingKey) {
    return invalid(
      "ID token signature key not found: no key in the issuer's JWKS matches its kid and alg, even after a refetch",
      error,
    );
  }
  if (error instanceof jose.errors.JOSEAlgNotAllowed || error instanceof jose.errors.JOSENotSupported) {
    return invalid(
      `ID token signed with an algorithm Gatehouse does not accept (${(error as Error).message})`,
      error,
    );
  }
  if (error instanceof jose.errors.JWTClaimValidationFailed || error instanceof jose.errors.JWTExpired) {
    return invalid(`ID token check failed on claim "${error.claim}": ${error.reason}`, error);
  }
  if (error instanceof jose.errors.JWKSTimeout) {
    return new GatehouseError("SSO_OUTBOUND_FAILED", "The identity provider's keys could not be fetched.", {
      detail: "JWKS endpoint timed out",
      cause: error,
    });
  }
  if (error instanceof jose.errors.JWKSInvalid || error instanceof jose.errors.JOSEError) {
    return invalid(`ID token could not be verified: ${(error as Error).message}`, error);
  }
  return new GatehouseError("SSO_OUTBOUND_FAILED", "The identity provider's keys could not be fetched.", {
    detail: `JWKS fetch failed: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}

function invalid(detail: string, cause?: unknown): GatehouseError {
  return new GatehouseError("SSO_ID_TOKEN_INVALID", "The identity provider's ID token was not accepted.", {
    detail,
    cause,
  });
}
