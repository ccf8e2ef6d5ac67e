import { createHash } from "node:crypto";
import * as client from "openid-client";
import { randomToken } from "../../crypto/tokens.js";
import { reauthenticationPrompt } from "../../domain/provider-claims.js";
import { GatehouseError, isGatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import type {
  Assertion,
  CheckDescription,
  SignInAdapter,
  SignInResponse,
  SignInTarget,
} from "../../sign-in/adapter.js";
import { claimSets, verifyResponse } from "./callback.js";
import { clientConfiguration, forgetConfiguration } from "./client.js";
import { endSessionUrl } from "./logout.js";
import { connectionTarget, linkedinTarget, type RelyingPartyTarget } from "./provider.js";
import { validateOidcSettings } from "./settings.js";

/** OpenID Connect's checks, in the order `verifyResponse` runs them (callback.ts). */
export const OIDC_CHECKS: readonly CheckDescription[] = [
  { check: "provider_response", label: "Authorization response: a code, no error" },
  { check: "response_iss", label: "Authorization response issuer (RFC 9207)" },
  { check: "token_request", label: "Token request: client authenticated, tokens issued" },
  { check: "iss", label: "ID token issuer (iss)" },
  { check: "aud", label: "ID token audience (aud)" },
  { check: "nonce", label: "Nonce" },
  { check: "exp", label: "Expiry (exp)" },
  { check: "iat", label: "Issued at (iat)" },
  { check: "signature", label: "Signature and algorithm" },
  { check: "azp", label: "Authorized party (azp)" },
  { check: "at_hash", label: "Access token hash (at_hash)" },
  { check: "sub", label: "Subject (sub)" },
  { check: "userinfo", label: "Userinfo (sub equal to the ID token's)" },
  { check: "email", label: "Email address" },
  { check: "email_verified", label: "Email verified (email_verified)" },
];

/** What an OpenID Connect sign-in keeps between the redirect and the callback. */
interface OidcPayload {
  nonce: string;
  codeVerifier: string;
}

function readPayload(payload: unknown): OidcPayload {
  const p = payload as Partial<OidcPayload> | null;
  if (typeof p?.nonce !== "string" || typeof p.codeVerifier !== "string") {
    throw new GatehouseError("SSO_STATE_UNKNOWN", "This sign-in is not known.", {
      detail: "the login transaction holds no OpenID Connect nonce and verifier",
      check: { check: "state", expected: "an OpenID Connect sign-in", received: "another payload" },
    });
  }
  return { nonce: p.nonce, codeVerifier: p.codeVerifier };
}

/** The check each of the flow's refusals stands for, when the refusal names none. */
const checkByCode: Partial<Record<string, string>> = {
  SSO_IDP_ERROR: "provider_response",
  SSO_RESPONSE_ISS_MISMATCH: "response_iss",
  SSO_TOKEN_REQUEST_FAILED: "token_request",
  SSO_ID_TOKEN_INVALID: "signature",
  SSO_OUTBOUND_FAILED: "signature",
  SSO_USERINFO_INVALID: "userinfo",
  SSO_EMAIL_MISSING: "email",
  SSO_EMAIL_UNVERIFIED: "email_verified",
};

/** Every refusal leaves `complete` naming its check, as the adapter contract asks. */
function withCheck(error: unknown): unknown {
  if (!isGatehouseError(error) || error.check) return error;
  return new GatehouseError(error.code, error.message, {
    detail: error.detail,
    fields: error.fields,
    cause: error.cause,
    check: { check: checkByCode[error.code] ?? "token_request" },
    providerAnswer: error.providerAnswer,
  });
}

interface OpenIdAdapterOptions {
  protocol: string;
  method: "sso" | "linkedin";
  relyingParty: (target: SignInTarget) => RelyingPartyTarget;
  endSession?: SignInAdapter["endSession"];
  validateSettings?: SignInAdapter["validateSettings"];
}

/** The authorization code flow with PKCE, for whichever OpenID Provider `relyingParty` names. */
function openIdAdapter(ctx: AppContext, options: OpenIdAdapterOptions): SignInAdapter {
  return {
    protocol: options.protocol,
    method: options.method,
    checks: OIDC_CHECKS,

    async begin(target, { handle, loginHint, reauthenticate }) {
      const rp = options.relyingParty(target);
      const config = await clientConfiguration(ctx, rp);
      // 32 random bytes each, base64url (43 characters, as openid-client's own helpers make them),
      // from Gatehouse's token pool rather than two system calls of their own.
      const nonce = randomToken(32);
      const codeVerifier = randomToken(32);
      const parameters: Record<string, string> = {
        response_type: "code",
        redirect_uri: rp.redirectUri,
        scope: rp.scopes,
        state: handle,
        nonce,
        // PKCE S256 always (RFC 7636 4.2), whatever the provider advertises; hashed synchronously
        // rather than through WebCrypto's thread-pool hop.
        code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
        code_challenge_method: "S256",
      };
      if (loginHint) parameters.login_hint = loginHint;
      if (reauthenticate) parameters.prompt = reauthenticationPrompt(rp.issuer);
      const url = client.buildAuthorizationUrl(config, parameters).toString();
      return { step: { kind: "redirect", url }, payload: { nonce, codeVerifier } };
    },

    readHandle(response) {
      const state = response.url.searchParams.get("state");
      if (state && state.length <= 512) return state;
      const idpError = response.url.searchParams.get("error");
      if (!state && idpError) {
        throw new GatehouseError("SSO_IDP_ERROR", "The sign-in response has no state.", {
          detail: `error=${idpError.slice(0, 100)} without state`,
          check: { check: "state", expected: "a state", received: "(absent)" },
          providerAnswer: { error: idpError.slice(0, 100) },
        });
      }
      return undefined;
    },

    async complete(target, response, transaction, attempt) {
      const rp = options.relyingParty(target);
      try {
        const verified = await verifyResponse(
          ctx,
          rp,
          response.url,
          { state: stateOf(response), ...readPayload(transaction.payload) },
          attempt,
        );
        return toAssertion(rp, verified);
      } catch (error) {
        throw withCheck(error);
      } finally {
        // An unsaved test's configuration is not kept past its one attempt.
        if (!target.saved) forgetConfiguration(rp.version);
      }
    },

    ...(options.endSession ? { endSession: options.endSession } : {}),
    ...(options.validateSettings ? { validateSettings: options.validateSettings } : {}),
  };
}

function stateOf(response: SignInResponse): string {
  return response.url.searchParams.get("state") ?? "";
}

function toAssertion(rp: RelyingPartyTarget, v: Awaited<ReturnType<typeof verifyResponse>>): Assertion {
  return {
    providerKey: rp.providerKey,
    subject: v.subject,
    email: v.email,
    emailVerified: v.emailVerified,
    name: v.name,
    givenName: v.givenName,
    familyName: v.familyName,
    // Roles are read from the ID token's claims over userinfo's.
    claims: { ...(v.userinfo ?? {}), ...v.claims },
    idpSession: { protocol: "oidc", idToken: v.idToken, sid: v.idpSid },
    rawClaims: claimSets(v.claims, v.userinfo ?? undefined),
  };
}

/** Enterprise connections of protocol `oidc`, saved or under test. */
export function oidcAdapter(ctx: AppContext): SignInAdapter {
  return openIdAdapter(ctx, {
    protocol: "oidc",
    method: "sso",
    relyingParty: (target) => {
      const connection = target.connection;
      if (connection?.protocol !== "oidc") {
        throw new GatehouseError("CONNECTION_NOT_FOUND", "The connection was deleted.", {
          detail: "no OpenID Connect connection for this sign-in",
        });
      }
      return connectionTarget(ctx, connection, target.saved);
    },
    async endSession(target, session, { state, postLogoutUrl }) {
      if (target.connection?.protocol !== "oidc" || session.protocol !== "oidc") return undefined;
      return endSessionUrl(ctx, target.connection, session.idToken, state, postLogoutUrl);
    },
    // The settings' own checks; whether the issuer publishes a usable discovery document is
    // the connection's next step (src/connections/create.ts), as fetching SAML metadata is.
    async validateSettings(input) {
      return validateOidcSettings(input);
    },
  });
}

/** "Continue with LinkedIn": LinkedIn speaks OpenID Connect; the deployment configures it. */
export function linkedinAdapter(ctx: AppContext): SignInAdapter {
  return openIdAdapter(ctx, {
    protocol: "linkedin",
    method: "linkedin",
    relyingParty: () => {
      const target = linkedinTarget(ctx);
      if (!target) throw new GatehouseError("LINKEDIN_NOT_CONFIGURED", "LinkedIn sign-in is not configured.");
      return target;
    },
  });
}
