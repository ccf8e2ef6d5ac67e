import * as client from "openid-client";
import { type ErrorCode, type FailedCheck, GatehouseError, type ProviderAnswer } from "../../errors.js";
import { findGatehouseError } from "./errors.js";

/**
 * The one adapter from openid-client / oauth4webapi errors to Gatehouse's codes. The detail
 * names the failed check and the claim with expected and received values, for the admin's
 * sign-in activity; it never carries a token, code or secret.
 */
export function toSignInError(error: unknown): GatehouseError {
  const own = findGatehouseError(error);
  if (own) return own;

  if (error instanceof client.AuthorizationResponseError) {
    return new GatehouseError("SSO_IDP_ERROR", "The identity provider refused the sign-in.", {
      detail: `authorization response error=${clip(error.error)}${error.error_description ? `: ${clip(error.error_description)}` : ""}`,
      providerAnswer: { error: clip(error.error, 100) },
      cause: error,
    });
  }
  if (error instanceof client.ResponseBodyError) {
    const said = `HTTP ${error.status} error=${clip(error.error)}${error.error_description ? `: ${clip(error.error_description)}` : ""}`;
    return new GatehouseError("SSO_TOKEN_REQUEST_FAILED", "The identity provider refused to issue tokens.", {
      detail: `${error.error === "invalid_client" ? `${CLIENT_REFUSED} ` : ""}Token endpoint answered ${said}`,
      check: { check: "token_request", expected: TOKENS_ISSUED, received: said },
      providerAnswer: { error: clip(error.error, 100), status: error.status },
      cause: error,
    });
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const challenges = error.cause.map(describeChallenge).join("; ");
    return new GatehouseError(
      "SSO_TOKEN_REQUEST_FAILED",
      "The identity provider refused the client's credentials.",
      {
        detail: `${CLIENT_REFUSED} Token endpoint answered HTTP ${error.status} with a WWW-Authenticate challenge: ${challenges}`,
        check: {
          check: "token_request",
          expected: TOKENS_ISSUED,
          received: `HTTP ${error.status}, ${challenges}`,
        },
        providerAnswer: withoutUndefined({ error: challengeError(error.cause), status: error.status }),
        cause: error,
      },
    );
  }
  const e = error as { code?: string; message?: string };
  // openid-client wraps oauth4webapi's error, which holds the facts: look down the chain.
  const cause = causeFacts(error);
  const message = e.message ?? "";
  const code = e.code;
  let gatehouseCode: ErrorCode = "SSO_ID_TOKEN_INVALID";
  let detail: string;
  let check: FailedCheck | undefined;
  let providerAnswer: ProviderAnswer | undefined;
  switch (code) {
    case "OAUTH_JWT_CLAIM_COMPARISON_FAILED":
    case "OAUTH_JWT_TIMESTAMP_CHECK_FAILED": {
      const claim = cause.claim ?? "?";
      const received = cause.claims?.[claim];
      detail = `ID token check failed on claim "${claim}": ${innerMessage(error)}; expected ${show(cause.expected)}, received ${show(received)}`;
      check = { check: checkOfClaim(claim), expected: show(cause.expected), received: show(received) };
      break;
    }
    case "OAUTH_KEY_SELECTION_FAILED":
      detail = `ID token signature key not found: ${innerMessage(error)}`;
      break;
    case "OAUTH_INVALID_RESPONSE": {
      const inner = innerMessage(error);
      const missingClaim = /JWT "(\w+)" \([^)]*\) claim missing/.exec(inner)?.[1];
      if (/"iss" \(issuer\)/.test(inner) && /response parameter/.test(inner)) {
        gatehouseCode = "SSO_RESPONSE_ISS_MISMATCH";
        detail = `RFC 9207 check failed: ${inner}; received ${show(cause.parameters?.get?.("iss") ?? undefined)}`;
      } else if (/"state"/.test(inner)) {
        gatehouseCode = "SSO_STATE_MISSING";
        detail = inner;
      } else if (missingClaim) {
        detail = `ID token check failed on claim "${missingClaim}": missing`;
        check = { check: checkOfClaim(missingClaim), expected: "present", received: "(absent)" };
      } else if (/id_token|JWT|ID Token/.test(inner)) {
        detail = `ID token: ${inner}`;
      } else {
        gatehouseCode = "SSO_TOKEN_REQUEST_FAILED";
        detail = `invalid response: ${inner}`;
      }
      break;
    }
    case "OAUTH_RESPONSE_IS_NOT_CONFORM":
      gatehouseCode = "SSO_TOKEN_REQUEST_FAILED";
      detail = `unexpected HTTP status ${String(cause.status ?? "")} from the identity provider`;
      providerAnswer = withoutUndefined({ status: cause.status });
      break;
    case "OAUTH_RESPONSE_IS_NOT_JSON":
      gatehouseCode = "SSO_TOKEN_REQUEST_FAILED";
      detail = "the identity provider answered with something other than JSON";
      providerAnswer = withoutUndefined({ status: cause.status });
      break;
    case "OAUTH_TIMEOUT":
    case "OAUTH_ABORT":
      gatehouseCode = "SSO_OUTBOUND_FAILED";
      detail = "the identity provider did not answer in time";
      break;
    default:
      detail = `${code ?? "error"}: ${innerMessage(error) || message}`;
      if (/signature/i.test(detail)) detail = `ID token signature invalid: ${innerMessage(error)}`;
  }
  return new GatehouseError(gatehouseCode, "The identity provider's answer was not accepted.", {
    detail,
    cause: error,
    check,
    providerAnswer,
  });
}

/** What the test sign-in's token request row expects (callback.ts records the same on a pass). */
const TOKENS_ISSUED = "the client authenticated, an ID token issued";

/** The admin's next step when the token endpoint refuses the client: said before the raw answer. */
const CLIENT_REFUSED =
  "The provider refused Gatehouse's client ID or secret. If the secret was regenerated or has expired at the provider, enter the new one in the connection's settings; check too that the client ID and the authentication method match the provider's.";

/** The check of the callback's list (checks.ts) that a claim belongs to. */
export function checkOfClaim(claim: string): string {
  if (claim === "nbf") return "exp";
  if (claim === "auth_time") return "iat";
  return claim;
}

interface CauseFacts {
  claim?: string;
  expected?: unknown;
  claims?: Record<string, unknown>;
  parameters?: URLSearchParams;
  status?: number;
}

function causeFacts(error: unknown): CauseFacts {
  const facts: CauseFacts = {};
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const level = e as CauseFacts & { cause?: unknown };
    if (facts.claim === undefined && typeof level.claim === "string") {
      facts.claim = level.claim;
      facts.expected = level.expected;
    }
    if (facts.claims === undefined && level.claims && typeof level.claims === "object")
      facts.claims = level.claims;
    if (facts.parameters === undefined && level.parameters instanceof URLSearchParams)
      facts.parameters = level.parameters;
    if (facts.status === undefined && typeof level.status === "number") facts.status = level.status;
    e = level.cause;
  }
  return facts;
}

function innerMessage(error: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = error; e && messages.length < 4; e = (e as { cause?: unknown }).cause) {
    if (e instanceof Error && e.message && !messages.includes(e.message)) messages.push(e.message);
  }
  return clip(messages.join(": "), 300);
}

function show(value: unknown): string {
  if (value === undefined) return "(absent)";
  return clip(JSON.stringify(value), 200);
}

/**
 * RFC 6749 §5.2: a provider refusing HTTP Basic credentials answers 401 with a challenge for the
 * scheme the client used. openid-client raises on the challenge without reading the body, so the
 * challenge's own `error` (Authlib's `invalid_client`) is the only reason the admin can be shown.
 */
function describeChallenge(challenge: client.WWWAuthenticateChallenge): string {
  const { error, error_description: description } = challenge.parameters;
  const said = error ? ` error=${clip(error, 100)}${description ? `: ${clip(description)}` : ""}` : "";
  return `${clip(challenge.scheme, 40)}${said}`;
}

function withoutUndefined(answer: ProviderAnswer): ProviderAnswer | undefined {
  const kept = Object.fromEntries(Object.entries(answer).filter(([, v]) => v !== undefined));
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** The first challenge's `error`, the only OAuth error code a refused Basic authentication names. */
function challengeError(challenges: client.WWWAuthenticateChallenge[]): string | undefined {
  const error = challenges.find((c) => c.parameters.error)?.parameters.error;
  return error ? clip(error, 100) : undefined;
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
