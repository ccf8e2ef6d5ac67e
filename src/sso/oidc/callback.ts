import type { FastifyRequest } from "fastify";
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
import { clientConfiguration } from "./client.js";
import { discoverIssuer } from "./discover.js";
import { verifyAccessTokenHash, verifyIdTokenSignature } from "./id-token.js";
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
  idToken: string;
  idpSid: string | null;
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
 */
export async function verifyCallback(
  ctx: AppContext,
  request: FastifyRequest,
  kind: "sso" | "linkedin",
  facts: AttemptFacts,
): Promise<VerifiedSignIn> {
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

  // Step 2.
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
    });
  }

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
  // OIDC Core 3.1.3.7 step 3: extra audiences are not trusted, with or without azp.
  if (Array.isArray(claims.aud) && (claims.aud.length !== 1 || claims.aud[0] !== target.clientId)) {
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "The ID token is meant for other audiences too.", {
      detail: `ID token check failed on claim "aud": expected only ${JSON.stringify(target.clientId)}, received ${JSON.stringify(claims.aud).slice(0, 200)}`,
    });
  }
  // OIDC Core 3.1.3.7 step 5: an azp, when present, names this client, whatever the audience.
  if (claims.azp !== undefined && claims.azp !== target.clientId) {
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "The ID token was issued to another client.", {
      detail: `ID token check failed on claim "azp": expected ${JSON.stringify(target.clientId)}, received ${JSON.stringify(claims.azp).slice(0, 200)}`,
    });
  }
  if (claims.at_hash !== undefined) await verifyAccessTokenHash(idToken, claims.at_hash, tokens.access_token);
  if (typeof claims.sub !== "string" || claims.sub.length === 0 || claims.sub.length > 255) {
    throw new GatehouseError("SSO_ID_TOKEN_INVALID", "The ID token has no subject.", {
      detail: 'ID token check failed on claim "sub": missing or invalid',
    });
  }
  facts.subject = claims.sub;

  // Step 5.
  let emailVerified = true;
  if (target.connection) {
    const checked = checkProviderClaims(
      {
        issuer: target.issuer,
        issuerTemplate: target.idTokenIssuerTemplate,
        allowedTenants: target.connection.allowedTenants,
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
  const rawEmail = profile.email;
  if (typeof rawEmail !== "string" || rawEmail.length === 0) {
    throw new GatehouseError("SSO_EMAIL_MISSING", "The identity provider sent no email address.", {
      detail: `neither the ID token nor userinfo has the "${target.emailClaim}" claim (is the email scope released, or does the provider put the address in another claim?)`,
    });
  }
  const email = normalizeEmail(rawEmail);
  facts.email = email ?? rawEmail.slice(0, 200);
  if (!email) {
    throw new GatehouseError("SSO_EMAIL_MISSING", "The identity provider sent an invalid email address.", {
      detail: `email claim ${JSON.stringify(rawEmail.slice(0, 200))} is not a valid address`,
    });
  }
  // `email_verified` absent is not the same as false: enterprise IdPs often omit it. It speaks
  // of the `email` claim only, so it is read from there (userinfo.ts) whatever claim holds the address.
  if (profile.email_verified === false || profile.email_verified === "false") {
    throw new GatehouseError("SSO_EMAIL_UNVERIFIED", "The email address is not verified.", {
      detail: `email_verified is false for ${email}`,
    });
  }
  if (kind === "linkedin" && profile.email_verified !== true && profile.email_verified !== "true") {
    throw new GatehouseError("SSO_EMAIL_UNVERIFIED", "The email address is not verified.", {
      detail: `LinkedIn did not assert email_verified for ${email}`,
    });
  }
  // The takeover rule: an IdP may only assert addresses at domains its organization has proven
  // it owns. A domain the connection lists but has not verified is not one of its domains.
  if (target.connection && !mayConnectionActForEmail(target.connection, email, ctx.now())) {
    const domain = emailDomain(email);
    const listed = target.connection.domainStatuses.find((d) => d.domain === domain);
    throw new GatehouseError(
      "SSO_EMAIL_DOMAIN_NOT_ALLOWED",
      "The connection may not sign in this email address.",
      {
        detail: listed
          ? `the IdP asserted ${email}; domain ${domain} is listed on the connection but ${listed.state === "pending" ? "not verified" : "failing verification past its grace period"} for the organization`
          : `the IdP asserted ${email}; domain ${domain} is not one of the connection's domains (${target.connection.domains.join(", ")})`,
      },
    );
  }

  return {
    target,
    transaction: tx,
    subject: claims.sub,
    email,
    emailVerified,
    name: typeof profile.name === "string" ? profile.name.slice(0, 200) : null,
    idToken,
    idpSid: typeof claims.sid === "string" ? claims.sid.slice(0, 255) : null,
  };
}
