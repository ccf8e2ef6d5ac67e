import * as jose from "jose";
import * as client from "openid-client";
import { normalizeEmail } from "../../domain/email.js";
import { activeDomains } from "../../domain/organization-domains.js";
import { checkProviderClaims } from "../../domain/provider-claims.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import type { ClaimSet, SignInAttempt } from "../../sign-in/adapter.js";
import { shown } from "../../sign-in/checks.js";
import { clientConfiguration } from "./client.js";
import { discoverIssuer } from "./discover.js";
import { MAX_ID_TOKEN_AGE_SECONDS, verifyAccessTokenHash, verifyIdTokenSignature } from "./id-token.js";
import { toSignInError } from "./protocol-errors.js";
import type { RelyingPartyTarget } from "./provider.js";
import { fetchMissingClaims } from "./userinfo.js";

/** What a successful callback proves: who the IdP says this is, checked against every rule. */
export interface VerifiedSignIn {
  subject: string;
  email: string;
  /**
   * False when the address came from a claim other than `email` (`upn`, `preferred_username`):
   * such an address never links an existing account (src/domain/provider-claims.ts).
   */
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  idToken: string;
  idpSid: string | null;
  /** The ID token's claims and, when it was called, userinfo's: for a test sign-in's result. */
  claims: client.IDToken;
  userinfo?: client.UserInfoResponse | undefined;
}

/** What the authorization request was sent with, kept in the login transaction. */
export interface AuthorizationRequestState {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * The callback's checks, in order (the pipeline, src/sign-in/complete.ts, has already consumed
 * the transaction, checked the browser and the connection). Each failure throws a
 * GatehouseError whose code and `check` name the check.
 *  1. openid-client: error response, RFC 9207 `iss`, state, code exchange with PKCE, the ID
 *     token's iss, aud, azp, exp, iat (60 s skew), nonce.
 *  2. Gatehouse's stricter rules: the signature against the JWKS with its key policy
 *     (id-token.ts), with `iat` neither in the future nor older than 10 minutes (plus skew);
 *     no audience besides our client id; `azp`, when present, our client id; `at_hash`, when
 *     present, matching the access token; `sub` present.
 *  3. Provider claims (src/domain/provider-claims.ts): a multi-tenant issuer's `tid` on the
 *     connection's allow-list, Entra's `xms_edov` for its `email` claim, Google's `hd` at one
 *     of the connection's verified domains.
 *  4. Claims: email (from userinfo when the ID token lacks it, with userinfo `sub` equal to
 *     the ID token's), `email_verified` not false (LinkedIn: true).
 * Whether the connection may assert the address's domain is the pipeline's check, the same
 * for every protocol (src/sign-in/policy.ts).
 */
export async function verifyResponse(
  ctx: AppContext,
  target: RelyingPartyTarget,
  currentUrl: URL,
  request: AuthorizationRequestState,
  attempt: SignInAttempt,
): Promise<VerifiedSignIn> {
  // A test sign-in records each check that passed; a real one computes none of it.
  const checks = attempt.recording ? attempt : undefined;
  // Step 1.
  const config = await clientConfiguration(ctx, target);
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    const failure = toSignInError(error);
    // openid-client checked the authorization response before it called the token endpoint.
    if (checks && failure.code === "SSO_TOKEN_REQUEST_FAILED")
      recordAuthorizationResponse(checks, target, currentUrl);
    throw failure;
  }
  const claims = tokens.claims();
  const idToken = tokens.id_token;
  if (!claims || !idToken) {
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "No ID token.", {
      detail: "token response without id_token",
      check: { check: "token_request", expected: "an ID token", received: "no id_token" },
    });
  }
  if (checks) recordGrantChecks(checks, ctx, target, currentUrl, request.nonce, claims);

  // Step 2. The signature, with Gatehouse's key policy (id-token.ts), then the audience rule.
  await verifyIdTokenSignature(
    ctx,
    // The cached discovery document: serverMetadata() would deep-copy it on every sign-in.
    await discoverIssuer(ctx, target.issuer),
    {
      issuer: target.issuer,
      issuerTemplate: target.idTokenIssuerTemplate,
      clientId: target.clientId,
      clockSkewSeconds: target.clockSkewSeconds,
    },
    idToken,
  );
  checks?.pass("signature", "a key in the issuer's JWKS, an asymmetric algorithm", signatureFacts(idToken));
  // OIDC Core 3.1.3.7 step 3: extra audiences are not trusted, with or without azp.
  if (Array.isArray(claims.aud) && (claims.aud.length !== 1 || claims.aud[0] !== target.clientId)) {
    const received = JSON.stringify(claims.aud).slice(0, 200);
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "The ID token is meant for other audiences too.", {
      detail: `ID token check failed on claim "aud": expected only ${JSON.stringify(target.clientId)}, received ${received}`,
      check: { check: "aud", expected: `only ${JSON.stringify(target.clientId)}`, received },
    });
  }
  // OIDC Core 3.1.3.7 step 5: an azp, when present, names this client, whatever the audience.
  if (claims.azp !== undefined && claims.azp !== target.clientId) {
    const received = JSON.stringify(claims.azp).slice(0, 200);
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "The ID token was issued to another client.", {
      detail: `ID token check failed on claim "azp": expected ${JSON.stringify(target.clientId)}, received ${received}`,
      check: { check: "azp", expected: JSON.stringify(target.clientId), received },
    });
  }
  checks?.pass("azp", `absent, or ${JSON.stringify(target.clientId)}`, claims.azp ?? "(absent)");
  if (claims.at_hash !== undefined) {
    await verifyAccessTokenHash(idToken, claims.at_hash, tokens.access_token);
    checks?.pass("at_hash", "the access token's hash", "matches");
  }
  if (typeof claims.sub !== "string" || claims.sub.length === 0 || claims.sub.length > 255) {
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "The ID token has no subject.", {
      detail: 'ID token check failed on claim "sub": missing or invalid',
      check: {
        check: "sub",
        expected: "a string of 1 to 255 characters",
        received: shown(claims.sub) ?? "(absent)",
      },
    });
  }
  checks?.pass("sub", "a string of 1 to 255 characters", claims.sub);
  attempt.identify({ subject: claims.sub });
  // Userinfo, if it is called, comes later: until then only the ID token's are known.
  checks?.received([idTokenClaimSet(claims)]);

  // Step 3.
  let emailVerified = true;
  if (target.connection) {
    const checked = checkProviderClaims(
      {
        issuer: target.issuer,
        issuerTemplate: target.idTokenIssuerTemplate,
        allowedTenants: target.connection.oidc.allowedTenants,
        emailClaim: target.emailClaim,
        activeDomains: activeDomains(
          target.connection.organizationId,
          target.connection.domainStatuses,
          ctx.now(),
        ),
      },
      { tid: claims.tid, xms_edov: claims.xms_edov, hd: claims.hd },
    );
    if (!checked.ok) {
      throw new GatehouseError(
        checked.code,
        checked.code === "SSO_TENANT_NOT_ALLOWED"
          ? "The connection does not accept accounts of this organization."
          : checked.code === "SSO_EMAIL_UNVERIFIED"
            ? "The email address is not verified."
            : "The connection may not sign in this account.",
        {
          detail: `ID token check failed on claim "${checked.check}": expected ${checked.expected}, received ${JSON.stringify(checked.received ?? null).slice(0, 200)}`,
          check: {
            check: checked.code === "SSO_EMAIL_UNVERIFIED" ? "email_verified" : "token_request",
            expected: `${checked.check}: ${checked.expected}`,
            received: JSON.stringify(checked.received ?? null).slice(0, 200),
          },
        },
      );
    }
    emailVerified = checked.emailVerified;
  }

  // Step 4.
  const profile = await fetchMissingClaims(config, tokens.access_token, claims, target.emailClaim);
  if (profile.userinfo && checks) {
    checks.received(claimSets(claims, profile.userinfo));
    checks.pass("userinfo", `sub ${JSON.stringify(claims.sub)}`, profile.userinfo.sub);
  }
  const rawEmail = profile.email;
  if (typeof rawEmail !== "string" || rawEmail.length === 0) {
    throw new GatehouseError("SSO_EMAIL_MISSING", "The identity provider sent no email address.", {
      detail: `neither the ID token nor userinfo has the "${target.emailClaim}" claim (is the email scope released, or does the provider put the address in another claim?)`,
      check: {
        check: "email",
        expected: `an address in the "${target.emailClaim}" claim`,
        received: shown(rawEmail) ?? "(absent)",
      },
    });
  }
  const email = normalizeEmail(rawEmail);
  attempt.identify({ email: email ?? rawEmail.slice(0, 200) });
  if (!email) {
    throw new GatehouseError("SSO_EMAIL_MISSING", "The identity provider sent an invalid email address.", {
      detail: `email claim ${JSON.stringify(rawEmail.slice(0, 200))} is not a valid address`,
      check: { check: "email", expected: "a valid email address", received: rawEmail.slice(0, 200) },
    });
  }
  checks?.pass("email", `an address in the "${target.emailClaim}" claim`, email);
  // `email_verified` absent is not the same as false: enterprise IdPs often omit it. It speaks
  // of the `email` claim only, so it is read from there (userinfo.ts) whatever claim holds the address.
  if (profile.email_verified === false || profile.email_verified === "false") {
    throw new GatehouseError("SSO_EMAIL_UNVERIFIED", "The email address is not verified.", {
      detail: `email_verified is false for ${email}`,
      check: { check: "email_verified", expected: "true or absent", received: "false" },
    });
  }
  if (target.kind === "linkedin" && profile.email_verified !== true && profile.email_verified !== "true") {
    throw new GatehouseError("SSO_EMAIL_UNVERIFIED", "The email address is not verified.", {
      detail: `LinkedIn did not assert email_verified for ${email}`,
    });
  }
  checks?.pass("email_verified", "true or absent", shown(profile.email_verified) ?? "(absent)");
  return {
    subject: claims.sub,
    email,
    emailVerified,
    name: typeof profile.name === "string" ? profile.name.slice(0, 200) : null,
    givenName: nameClaim(claims.given_name ?? profile.userinfo?.given_name),
    familyName: nameClaim(claims.family_name ?? profile.userinfo?.family_name),
    idToken,
    idpSid: typeof claims.sid === "string" ? claims.sid.slice(0, 255) : null,
    claims,
    userinfo: profile.userinfo,
  };
}

/**
 * What openid-client's authorizationCodeGrant checked when it returned (OIDC Core 3.1.3.7
 * steps 2, 3, 9, 10, 11), written down for a test sign-in with the values it compared.
 */
function recordGrantChecks(
  checks: SignInAttempt,
  ctx: AppContext,
  target: RelyingPartyTarget,
  currentUrl: URL,
  nonce: string,
  claims: client.IDToken,
): void {
  const skew = target.clockSkewSeconds;
  const now = ctx.now();
  recordAuthorizationResponse(checks, target, currentUrl);
  checks.pass(
    "token_request",
    "the client authenticated, an ID token issued",
    `tokens issued (${target.tokenEndpointAuthMethod ?? "automatic authentication method"})`,
  );
  checks.pass("iss", target.idTokenIssuerTemplate ?? target.issuer, claims.iss);
  checks.pass("aud", [target.clientId], claims.aud);
  checks.pass("nonce", nonce, claims.nonce);
  checks.pass("exp", `after ${iso(now / 1000 - skew)} (${skew} s tolerance)`, iso(claims.exp));
  checks.pass(
    "iat",
    `between ${iso(now / 1000 - MAX_ID_TOKEN_AGE_SECONDS - skew)} and ${iso(now / 1000 + skew)}`,
    iso(claims.iat),
  );
}

function recordAuthorizationResponse(
  checks: SignInAttempt,
  target: RelyingPartyTarget,
  currentUrl: URL,
): void {
  checks.pass("provider_response", "an authorization code, no error", "a code");
  const iss = currentUrl.searchParams.get("iss");
  checks.pass("response_iss", target.idTokenIssuerTemplate ?? target.issuer, iss ?? "(not sent; optional)");
}

function iso(seconds: unknown): string {
  return typeof seconds === "number" && Number.isFinite(seconds)
    ? new Date(Math.round(seconds) * 1000).toISOString()
    : (shown(seconds) ?? "(absent)");
}

function signatureFacts(idToken: string): string {
  try {
    const header = jose.decodeProtectedHeader(idToken);
    return `alg ${String(header.alg)}${header.kid ? `, kid ${String(header.kid).slice(0, 100)}` : ", no kid"}`;
  } catch {
    return "(unreadable header)";
  }
}

function nameClaim(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value.trim().slice(0, 200) : null;
}

function idTokenClaimSet(claims: Readonly<Record<string, unknown>>): ClaimSet {
  return { key: "id-token", title: "ID token claims", claims: { ...claims } };
}

/** The claims as a test sign-in shows them: the ID token's, and userinfo's when it was called. */
export function claimSets(
  idToken: Readonly<Record<string, unknown>>,
  userinfo: Readonly<Record<string, unknown>> | undefined,
): ClaimSet[] {
  return [
    idTokenClaimSet(idToken),
    {
      key: "userinfo",
      title: "Userinfo claims",
      claims: userinfo ? { ...userinfo } : null,
      note: "Userinfo was not called: the ID token holds the email and the name, as a real sign-in finds them.",
    },
  ];
}
