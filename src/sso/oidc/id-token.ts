import * as jose from "jose";
import { type FailedCheck, GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { idpFetch, type ServerMetadata } from "./discover.js";
import { findGatehouseError } from "./errors.js";
import { cacheLifetimeMs } from "./outbound.js";
import { checkOfClaim } from "./protocol-errors.js";

/**
 * Signature verification of the ID token against the issuer's JWKS (OIDC Core 3.1.3.7 step 6),
 * done here with jose and a JWKS cache on Gatehouse's clock rather than left to openid-client,
 * because Gatehouse needs a stricter key policy than the library's defaults:
 *  - asymmetric algorithms only: `none` and HMAC with the client secret are never accepted;
 *  - a `kid` that is not in the cached JWKS triggers one refetch, at most once per issuer per
 *    REFETCH_COOLDOWN_MS, so made-up `kid`s cannot make Gatehouse hammer a provider; except
 *    that a token issued after the last fetch (a key rotated since) refetches at once, which
 *    is allowed once more per cooldown, so a rotation never fails a sign-in;
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
/**
 * Gatehouse's rule, stricter than OIDC Core 3.1.3.7 step 10 leaves it: an ID token issued more
 * than this long ago (plus the clock skew) is refused, whatever its exp, and so is one issued
 * in the future.
 */
export const MAX_ID_TOKEN_AGE_SECONDS = 10 * 60;
/** JWKS lifetime: the provider's Cache-Control within these bounds. */
export const JWKS_CACHE_BOUNDS = { minMs: 60_000, maxMs: 24 * 3600_000, fallbackMs: 10 * 60_000 };

type LocalKeySet = ReturnType<typeof jose.createLocalJWKSet>;
interface CachedKeySet {
  local: LocalKeySet | undefined;
  /** When the fetch that produced `local` started, on Gatehouse's clock. */
  fetchedAt: number;
  maxAgeMs: number;
  /** One fetch in flight per key set, shared by every sign-in that needs it. */
  pending: Promise<void> | undefined;
  /** The last refetch allowed inside the cooldown because the token was newer than the key set. */
  rotationRefetchAt: number;
}
const keySets = new Map<string, CachedKeySet>();

/**
 * The issuer's JWKS, cached per jwks_uri. Not jose's remote key set: its cooldown and cache age
 * run on the wall clock, and Gatehouse's time is `ctx.now()`.
 */
function keySetFor(ctx: AppContext, jwksUri: string): jose.JWTVerifyGetKey {
  let cached = keySets.get(jwksUri);
  if (!cached) {
    cached = {
      local: undefined,
      fetchedAt: 0,
      maxAgeMs: JWKS_CACHE_BOUNDS.fallbackMs,
      pending: undefined,
      rotationRefetchAt: Number.NEGATIVE_INFINITY,
    };
    keySets.set(jwksUri, cached);
  }
  const entry = cached;
  const reload = async (): Promise<LocalKeySet> => {
    // Concurrent sign-ins that miss the same kid share one fetch.
    const startedAt = ctx.now();
    entry.pending ??= fetchKeySet(ctx, jwksUri)
      .then(({ local, maxAgeMs }) => {
        entry.local = local;
        entry.maxAgeMs = maxAgeMs;
        entry.fetchedAt = startedAt;
      })
      .finally(() => {
        entry.pending = undefined;
      });
    await entry.pending;
    if (!entry.local) throw invalid("the issuer's JWKS could not be loaded");
    return entry.local;
  };
  return async (header, token) => {
    const local = entry.local && ctx.now() - entry.fetchedAt < entry.maxAgeMs ? entry.local : await reload();
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof jose.errors.JWKSNoMatchingKey)) throw error;
      // A fetch already under way may bring the key: wait for it rather than start another.
      if (entry.pending) {
        await entry.pending;
        if (entry.local && entry.local !== local) return entry.local(header, token);
      }
      const now = ctx.now();
      if (now - entry.fetchedAt >= REFETCH_COOLDOWN_MS) return (await reload())(header, token);
      if (issuedAfter(token, entry.fetchedAt, now) && now - entry.rotationRefetchAt >= REFETCH_COOLDOWN_MS) {
        entry.rotationRefetchAt = now;
        return (await reload())(header, token);
      }
      throw error;
    }
  };
}

/**
 * Whether the token says it was issued after the key set was fetched (and not in the future):
 * then an unknown `kid` is most likely a key the provider rotated in since. The claim is read
 * before the signature is verified, so it only decides whether to look again, never whether
 * to trust; the cooldown on these early refetches bounds what a lying provider can cause.
 */
function issuedAfter(token: jose.FlattenedJWSInput, fetchedAt: number, now: number): boolean {
  let iat: unknown;
  try {
    iat = (
      JSON.parse(new TextDecoder().decode(jose.base64url.decode(token.payload as string))) as {
        iat?: unknown;
      }
    ).iat;
  } catch {
    return false;
  }
  return typeof iat === "number" && iat * 1000 > fetchedAt && iat * 1000 <= now + 60_000;
}

async function fetchKeySet(
  ctx: AppContext,
  jwksUri: string,
): Promise<{ local: LocalKeySet; maxAgeMs: number }> {
  const response = await idpFetch(ctx)(jwksUri, {
    method: "GET",
    headers: { accept: "application/json, application/jwk-set+json" },
  });
  if (response.status !== 200) {
    throw new GatehouseError("SSO_OUTBOUND_FAILED", "The identity provider's keys could not be fetched.", {
      detail: `JWKS endpoint ${jwksUri} answered HTTP ${response.status}`,
    });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new GatehouseError("SSO_OUTBOUND_FAILED", "The identity provider's keys could not be fetched.", {
      detail: `JWKS endpoint ${jwksUri} did not answer with JSON`,
      cause,
    });
  }
  // Throws JWKSInvalid when the document is not a key set.
  return {
    local: jose.createLocalJWKSet(body as jose.JSONWebKeySet),
    maxAgeMs: cacheLifetimeMs(response.headers.get("cache-control"), JWKS_CACHE_BOUNDS),
  };
}

export async function verifyIdTokenSignature(
  ctx: AppContext,
  metadata: ServerMetadata,
  expected: {
    issuer: string;
    issuerTemplate?: string | undefined;
    clientId: string;
    clockSkewSeconds: number;
  },
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
      ...(expected.issuerTemplate ? {} : { issuer: expected.issuer }),
      audience: expected.clientId,
      clockTolerance: expected.clockSkewSeconds,
      maxTokenAge: MAX_ID_TOKEN_AGE_SECONDS,
      currentDate: new Date(ctx.now()),
    });
    if (expected.issuerTemplate) {
      const issuer = expectedTemplateIssuer(expected.issuerTemplate, payload.tid);
      if (payload.iss !== issuer) {
        throw invalid(
          `ID token check failed on claim "iss": expected ${JSON.stringify(issuer)} (the issuer template with tid), received ${JSON.stringify(payload.iss)}`,
          undefined,
          {
            check: "iss",
            expected: JSON.stringify(issuer),
            received: JSON.stringify(payload.iss)?.slice(0, 200),
          },
        );
      }
    }
    return payload;
  } catch (error) {
    throw describe(error, idToken, expected);
  }
}

/**
 * Entra ID's multi-tenant issuer template names the tenant in `{tenantid}`; the ID token's own
 * `tid` fills it in. A token without a plausible `tid` can match no issuer.
 */
export function expectedTemplateIssuer(template: string, tid: unknown): string | undefined {
  if (typeof tid !== "string" || !/^[0-9a-fA-F-]{1,64}$/.test(tid)) return undefined;
  return template.replace("{tenantid}", tid);
}

function describe(
  error: unknown,
  idToken: string,
  expected: { issuer: string; clientId: string; clockSkewSeconds: number },
): GatehouseError {
  const own = findGatehouseError(error);
  if (own) {
    return own.code === "SSO_OUTBOUND_FAILED" || own.code === "SSO_ISSUER_NOT_ALLOWED"
      ? new GatehouseError("SSO_OUTBOUND_FAILED", own.message, {
          detail: `JWKS: ${own.detail ?? own.message}`,
          cause: error,
        })
      : own;
  }
  const signature = {
    check: "signature",
    expected: `a key in the issuer's JWKS; alg one of ${ALLOWED_ALGORITHMS.join(", ")}`,
    received: headerFacts(idToken),
  };
  if (error instanceof jose.errors.JWSSignatureVerificationFailed)
    return invalid("ID token signature invalid", error, {
      ...signature,
      received: `${signature.received}: signature does not verify`,
    });
  if (error instanceof jose.errors.JWKSNoMatchingKey) {
    return invalid(
      "ID token signature key not found: no key in the issuer's JWKS matches its kid and alg, even after a refetch",
      error,
      { ...signature, received: `${signature.received}: no such key in the JWKS` },
    );
  }
  if (error instanceof jose.errors.JOSEAlgNotAllowed || error instanceof jose.errors.JOSENotSupported) {
    return invalid(
      `ID token signed with alg ${headerAlg(idToken)}, an algorithm Gatehouse does not accept (${(error as Error).message})`,
      error,
      signature,
    );
  }
  if (error instanceof jose.errors.JWTClaimValidationFailed || error instanceof jose.errors.JWTExpired) {
    const claim = error.claim;
    const expectedValue: Record<string, string> = {
      iss: JSON.stringify(expected.issuer),
      aud: JSON.stringify(expected.clientId),
      iat: `not in the future, at most ${MAX_ID_TOKEN_AGE_SECONDS} s old (${expected.clockSkewSeconds} s tolerance)`,
      exp: `in the future (${expected.clockSkewSeconds} s tolerance)`,
      nbf: `in the past (${expected.clockSkewSeconds} s tolerance)`,
    };
    const received = error.payload[claim];
    return invalid(`ID token check failed on claim "${claim}": ${error.message}`, error, {
      check: checkOfClaim(claim),
      expected: expectedValue[claim],
      received:
        typeof received === "number" && ["iat", "exp", "nbf"].includes(claim)
          ? new Date(received * 1000).toISOString()
          : received === undefined
            ? "(absent)"
            : JSON.stringify(received).slice(0, 200),
    });
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

/**
 * OIDC Core 3.1.3.8: when the ID token carries `at_hash`, it must be the left half of the hash
 * of the access token it came with, the hash being the one of the token's signing algorithm.
 * Called after the signature is verified, so the header can be trusted.
 */
export async function verifyAccessTokenHash(
  idToken: string,
  atHash: unknown,
  accessToken: string,
): Promise<void> {
  const { alg } = jose.decodeProtectedHeader(idToken);
  const hash =
    alg === "EdDSA" || alg === "Ed25519" || alg?.endsWith("512")
      ? "SHA-512"
      : alg?.endsWith("384")
        ? "SHA-384"
        : "SHA-256";
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(accessToken)));
  const expected = jose.base64url.encode(digest.slice(0, digest.length / 2));
  if (atHash !== expected) {
    throw invalid('ID token check failed on claim "at_hash": it does not match the access token', undefined, {
      check: "at_hash",
      expected: expected,
      received: typeof atHash === "string" ? atHash.slice(0, 100) : JSON.stringify(atHash),
    });
  }
}

function headerAlg(idToken: string): string {
  try {
    return JSON.stringify(jose.decodeProtectedHeader(idToken).alg).slice(0, 40);
  } catch {
    return "(unreadable header)";
  }
}

function headerFacts(idToken: string): string {
  try {
    const { alg, kid } = jose.decodeProtectedHeader(idToken);
    return `alg ${JSON.stringify(alg).slice(0, 40)}${kid ? `, kid ${JSON.stringify(kid).slice(0, 100)}` : ", no kid"}`;
  } catch {
    return "(unreadable header)";
  }
}

function invalid(detail: string, cause?: unknown, check?: FailedCheck): GatehouseError {
  return new GatehouseError("SSO_ID_TOKEN_INVALID", "The identity provider's ID token was not accepted.", {
    detail,
    cause,
    check,
  });
}
