import type { FastifyRequest } from "fastify";
import * as jose from "jose";
import * as client from "openid-client";
import { hashToken, safeEqual } from "../../crypto/tokens.js";
import { emailDomain, normalizeEmail } from "../../domain/email.js";
import { activeDomains, mayConnectionActForEmail } from "../../domain/organization-domains.js";
import { checkProviderClaims } from "../../domain/provider-claims.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import type { Connection } from "../../store/connections.js";
import { findConnectionById } from "../../store/connections.js";
import { consumeLoginTransaction, type LoginTransaction } from "../../store/login-transactions.js";
import { limitSignInCallbacks } from "../rate-limit.js";
import { type CheckLog, shown } from "./checks.js";
import { clientConfiguration } from "./client.js";
import { discoverIssuer } from "./discover.js";
import { MAX_ID_TOKEN_AGE_SECONDS, verifyAccessTokenHash, verifyIdTokenSignature } from "./id-token.js";
import { toSignInError } from "./protocol-errors.js";
import { connectionTarget, linkedinTarget, type RelyingPartyTarget } from "./provider.js";
import { readBrowserHash } from "./transaction-cookie.js";
import { fetchMissingClaims } from "./userinfo.js";

/** What a successful callback proves: who the IdP says this is, checked against every rule. */
export interface VerifiedSignIn {
  target: RelyingPartyTarget;
  transaction: LoginTransaction;
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

/** The login transaction a callback belongs to, once step 1 has passed. */
export interface OpenedTransaction {
  currentUrl: URL;
  state: string;
  tx: LoginTransaction;
}

/** Whatever is known about a failed attempt, for the audit log. */
export interface AttemptFacts {
  connection?: Connection | undefined;
  email?: string | undefined;
  subject?: string | undefined;
}

/**
 * The callback's checks, in order. Each failure throws a GatehouseError whose code names the
 * check; `facts` collects what is known so far for the audit entry.
 *  1. `state` present, known, not yet used, not expired, started by this browser; a callback
 *     without a fresh state counts against the address's per-minute limit on flows.
 *  2. The connection still exists and is enabled (or LinkedIn is still configured).
 *  3. openid-client: error response, RFC 9207 `iss`, state, code exchange with PKCE, the ID
 *     token's iss, aud, azp, exp, iat (60 s skew), nonce.
 *  4. Gatehouse's stricter rules: the signature against the JWKS with its key policy
 *     (id-token.ts), with `iat` neither in the future nor older than 10 minutes (plus skew);
 *     no audience besides our client id; `azp`, when present, our client id; `at_hash`, when
 *     present, matching the access token; `sub` present.
 *  5. Provider claims (src/domain/provider-claims.ts): a multi-tenant issuer's `tid` on the
 *     connection's allow-list, Entra's `xms_edov` for its `email` claim, Google's `hd` at one
 *     of the connection's verified domains.
 *  6. Claims: email (from userinfo when the ID token lacks it, with userinfo `sub` equal to
 *     the ID token's), `email_verified` not false, and for SSO an email at one of the
 *     connection's domains.
 * Step 1 (`openTransaction`) tells a sign-in from a test sign-in; step 2 (`signInTarget`) is a
 * sign-in's, a test has its own target (src/connections/test.ts); steps 3 to 5
 * (`verifyResponse`) are the same for both.
 */
export async function openTransaction(
  ctx: AppContext,
  request: FastifyRequest,
  kind: "sso" | "linkedin",
  facts: AttemptFacts,
): Promise<OpenedTransaction> {
  const currentUrl = new URL(request.url, ctx.config.baseUrl);
  const state = currentUrl.searchParams.get("state");
  if (!state || state.length > 512) {
    await limitSignInCallbacks(ctx, request.ip);
    const idpError = currentUrl.searchParams.get("error");
    throw new GatehouseError(
      idpError ? "SSO_IDP_ERROR" : "SSO_STATE_MISSING",
      "The sign-in response has no state.",
      {
        detail: idpError
          ? `error=${idpError.slice(0, 100)} without state`
          : "callback without a state parameter",
      },
    );
  }

  // Step 1. Consumed before anything else, so a state works once even if a later check fails.
  const consumed = await consumeLoginTransaction(ctx.store.db, hashToken(state), ctx.now());
  // A fresh state was counted against the address's limit when its flow started; anything else
  // (guessed, replayed, another kind's) is counted here, and refused once over the limit.
  if (!consumed || consumed.tx.kind !== kind || consumed.alreadyConsumed) {
    await limitSignInCallbacks(ctx, request.ip);
  }
  if (!consumed || consumed.tx.kind !== kind) {
    throw new GatehouseError("SSO_STATE_UNKNOWN", "This sign-in is not known.", {
      detail: "no login transaction for this state",
    });
  }
  const tx = consumed.tx;
  if (tx.connection_id) facts.connection = await findConnectionById(ctx.store.db, tx.connection_id);
  if (consumed.alreadyConsumed) {
    throw new GatehouseError("SSO_STATE_REPLAYED", "This sign-in was already completed.", {
      detail: "state already used",
    });
  }
  if (tx.expires_at <= ctx.now()) {
    throw new GatehouseError("SSO_STATE_EXPIRED", "This sign-in expired.", {
      detail: `login transaction expired ${Math.round((ctx.now() - tx.expires_at) / 1000)} s ago`,
    });
  }
  const browserHash = readBrowserHash(ctx, request);
  if (!browserHash || !safeEqual(browserHash, tx.browser_hash)) {
    throw new GatehouseError("SSO_BROWSER_MISMATCH", "This sign-in was started in another browser.", {
      detail: browserHash
        ? "browser-binding cookie differs from the one that started the flow"
        : "no browser-binding cookie",
    });
  }
  return { currentUrl, state, tx };
}

/** Step 2: the connection still exists and is enabled, or LinkedIn is still configured. */
export function signInTarget(
  ctx: AppContext,
  kind: "sso" | "linkedin",
  facts: AttemptFacts,
): RelyingPartyTarget {
  let target: RelyingPartyTarget | undefined;
  if (kind === "sso") {
    const connection = facts.connection;
    if (!connection)
      throw new GatehouseError("CONNECTION_NOT_FOUND", "The connection was deleted.", {
        detail: "connection deleted during sign-in",
      });
    if (connection.status !== "enabled") {
      throw new GatehouseError("CONNECTION_DISABLED", "The connection is disabled.", {
        detail: "connection disabled during sign-in",
      });
    }
    target = connectionTarget(ctx, connection);
  } else {
    target = linkedinTarget(ctx);
    if (!target) throw new GatehouseError("LINKEDIN_NOT_CONFIGURED", "LinkedIn sign-in is not configured.");
  }
  return target;
}

/**
 * Steps 3 to 5, for the target the transaction was started for. `checks`, given by a test
 * sign-in only, records each check that passed with what was expected and received.
 */
export async function verifyResponse(
  ctx: AppContext,
  opened: OpenedTransaction,
  target: RelyingPartyTarget,
  facts: AttemptFacts,
  checks?: CheckLog,
): Promise<VerifiedSignIn> {
  const { currentUrl, state, tx } = opened;
  checks?.pass("state", "a test started in this browser, not yet used, in time", "as expected");
  // Step 3.
  const config = await clientConfiguration(ctx, target);
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: tx.code_verifier,
      expectedState: state,
      expectedNonce: tx.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    throw toSignInError(error);
  }
  const claims = tokens.claims();
  const idToken = tokens.id_token;
  if (!claims || !idToken) {
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "No ID token.", {
      detail: "token response without id_token",
      check: { check: "token_request", expected: "an ID token", received: "no id_token" },
    });
  }
  if (checks) recordGrantChecks(checks, ctx, target, currentUrl, tx, claims);

  // Step 4. The signature, with Gatehouse's key policy (id-token.ts), then the audience rule.
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
  facts.subject = claims.sub;

  // Step 5.
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
        },
      );
    }
    emailVerified = checked.emailVerified;
  }

  // Step 6.
  const profile = await fetchMissingClaims(config, tokens.access_token, claims, target.emailClaim);
  if (profile.userinfo) checks?.pass("userinfo", `sub ${JSON.stringify(claims.sub)}`, profile.userinfo.sub);
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
  facts.email = email ?? rawEmail.slice(0, 200);
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
  // The takeover rule: an IdP may only assert addresses at domains its organization has proven
  // it owns. A domain the connection lists but has not verified is not one of its domains.
  if (target.connection) {
    const domain = emailDomain(email);
    const allowed = activeDomains(
      target.connection.organizationId,
      target.connection.domainStatuses,
      ctx.now(),
    );
    const expected =
      allowed.length > 0 ? `one of ${allowed.join(", ")}` : "a verified domain (none is verified yet)";
    if (!mayConnectionActForEmail(target.connection, email, ctx.now())) {
      const listed = target.connection.domainStatuses.find((d) => d.domain === domain);
      throw new GatehouseError(
        "SSO_EMAIL_DOMAIN_NOT_ALLOWED",
        "The connection may not sign in this email address.",
        {
          detail: listed
            ? `the IdP asserted ${email}; domain ${domain} is listed on the connection but ${listed.state === "pending" ? "not verified" : "failing verification past its grace period"} for the organization`
            : `the IdP asserted ${email}; domain ${domain} is not one of the connection's domains (${target.connection.domains.join(", ")})`,
          check: {
            check: "email_domain",
            expected,
            received: listed
              ? `${domain} (listed, ${listed.state === "pending" ? "not verified" : "failing verification"})`
              : domain,
          },
        },
      );
    }
    checks?.pass("email_domain", expected, domain);
  }

  return {
    target,
    transaction: tx,
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
  checks: CheckLog,
  ctx: AppContext,
  target: RelyingPartyTarget,
  currentUrl: URL,
  tx: LoginTransaction,
  claims: client.IDToken,
): void {
  const skew = target.clockSkewSeconds;
  const now = ctx.now();
  checks.pass("provider_response", "an authorization code, no error", "a code");
  const iss = currentUrl.searchParams.get("iss");
  checks.pass("response_iss", target.idTokenIssuerTemplate ?? target.issuer, iss ?? "(not sent; optional)");
  checks.pass(
    "token_request",
    "the client authenticated, an ID token issued",
    `tokens issued (${target.tokenEndpointAuthMethod ?? "automatic authentication method"})`,
  );
  checks.pass("iss", target.idTokenIssuerTemplate ?? target.issuer, claims.iss);
  checks.pass("aud", [target.clientId], claims.aud);
  checks.pass("nonce", tx.nonce, claims.nonce);
  checks.pass("exp", `after ${iso(now / 1000 - skew)} (${skew} s tolerance)`, iso(claims.exp));
  checks.pass(
    "iat",
    `between ${iso(now / 1000 - MAX_ID_TOKEN_AGE_SECONDS - skew)} and ${iso(now / 1000 + skew)}`,
    iso(claims.iat),
  );
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
