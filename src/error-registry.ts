/**
 * Every refusal Gatehouse can answer, in one table: its HTTP status, who it is meant for, and
 * what the person reads (what happened, and what to do). The code is the key: stable, kept
 * verbatim in the audit log, asserted on by tests. Pages and JSON are rendered from this
 * table in one place (src/server/error-response.ts); nothing else maps a code to a status or
 * to words.
 *
 * `audience` says who acts on it: `person` (someone signing in or using a page), `admin` (an
 * organization's administrator, in the console or reading the sign-in activity), `api` (a
 * program calling the JSON API). Each gets the same text; the audience decides the wording.
 */
export type ErrorAudience = "person" | "admin" | "api";

/**
 * Whether a refused sign-in can pass if the person tries again (`retry`: the provider was
 * down, the sign-in expired, they used the wrong account), or will be refused the same way
 * until the organization's administrator fixes the connection (`administrator`: a client
 * secret the provider no longer accepts, an ID token for another audience, an email claim the
 * provider does not release).
 */
export type Remedy = "retry" | "administrator";

export interface ErrorSpec {
  status: number;
  audience: ErrorAudience;
  title: string;
  action: string;
  /**
   * Single sign-on refusals only: their remedy, or `depends` when the code covers both kinds
   * and the provider's answer or the failed check decides (src/error-remedy.ts). The page and
   * the JSON body (`retryable`) say which.
   */
  remedy?: Remedy | "depends";
  /**
   * The action when the remedy is `administrator`, for a code whose `action` says something
   * else (a `depends` code's retry, a Setup form's hint).
   */
  administratorAction?: string;
}

const CODE_BELOW = "Try again; if it keeps happening, give the code below to your administrator.";
const START_AGAIN = "Start signing in again from the sign-in page.";
const NOT_ACCEPTED = `Your company's identity provider sent an answer Gatehouse could not accept. ${CODE_BELOW}`;
/**
 * What a person reads when trying again cannot help: no provider prose, no detail. The page's
 * reference code, right below, says to give it to the administrator.
 */
const ADMINISTRATOR_FIXES =
  "Trying again will not help until your administrator fixes your company's single sign-on connection.";
/**
 * Shown under an `administrator` refusal: when enforced SSO locks out the administrator too,
 * the Gatehouse operator's `gatehouse connection disable` is the way back in.
 */
export const LOCKED_OUT_HINT =
  "If you administer your organization and nobody can sign in, ask whoever runs Gatehouse to turn this connection off.";

const ssoFailed = (
  remedy: NonNullable<ErrorSpec["remedy"]>,
  action: string,
  administratorAction?: string,
): ErrorSpec => ({
  status: 400,
  audience: "person",
  title: "Single sign-on failed",
  action,
  remedy,
  ...(administratorAction ? { administratorAction } : {}),
});

export const ERRORS = {
  AUTH_INVALID_CREDENTIALS: {
    status: 401,
    audience: "person",
    title: "Sign-in failed",
    action: "Check your email and password and try again.",
  },
  AUTH_RATE_LIMITED: {
    status: 429,
    audience: "person",
    title: "Too many attempts",
    action: "For your security, sign-in is paused for a while. Wait a few minutes, then try again.",
    remedy: "retry",
  },
  AUTH_SSO_REQUIRED: {
    status: 403,
    audience: "person",
    title: "Single sign-on required",
    action: "Your organization requires you to sign in with your company account. Continue with SSO.",
  },
  AUTH_SIGNED_OUT: {
    status: 401,
    audience: "person",
    title: "You were signed out",
    action: "Your session ended. Sign in again to continue.",
  },
  AUTH_FORBIDDEN: {
    status: 403,
    audience: "person",
    title: "You don't have access to this page",
    action:
      "Only your organization's owners and administrators can open Administration. Ask one of them for access.",
  },
  AUTH_UNAUTHENTICATED: {
    status: 401,
    audience: "person",
    title: "Please sign in",
    action: "Sign in to continue.",
  },
  CSRF_INVALID: {
    status: 403,
    audience: "person",
    title: "This form has expired",
    action:
      "The page was open too long or was submitted from somewhere else. Go back, reload the page and try again.",
  },
  REQUEST_INVALID: {
    status: 400,
    audience: "api",
    title: "That request could not be read",
    action: "Go back and try again.",
  },
  NOT_FOUND: {
    status: 404,
    audience: "person",
    title: "Page not found",
    action: "Check the address, or go back to the home page.",
  },
  CONFLICT: {
    status: 409,
    audience: "admin",
    title: "Someone else changed this meanwhile",
    action: "Reload the page and make your change again.",
  },
  VALIDATION_FAILED: {
    status: 400,
    audience: "admin",
    title: "Some fields need attention",
    action: "Correct the fields marked and send the form again.",
  },
  CONNECTION_NOT_FOUND: {
    status: 404,
    audience: "admin",
    title: "Connection not found",
    action: "It may have been deleted. Go back and reload.",
  },
  CONNECTION_DISABLED: {
    status: 400,
    audience: "person",
    title: "This single sign-on is turned off",
    action: "Your administrator disabled the connection. Ask them, or sign in another way.",
    // Started again, the sign-in no longer routes to a disabled connection.
    remedy: "retry",
  },
  DOMAIN_NOT_FOUND: {
    status: 404,
    audience: "admin",
    title: "Domain not found",
    action: "It may have been removed. Go back and reload.",
  },
  DOMAIN_NOT_ALLOWED: {
    status: 400,
    audience: "admin",
    title: "That domain cannot be added",
    action: "Enter your company's own email domain, such as acme.com.",
  },
  DOMAIN_VERIFIED_ELSEWHERE: {
    status: 409,
    audience: "admin",
    title: "That domain belongs to another organization",
    action:
      "Another organization has proven it owns this domain. If that is a mistake, ask your Gatehouse operator.",
  },
  SSO_NO_CONNECTION: {
    status: 404,
    audience: "person",
    title: "No single sign-on for that address",
    action:
      "Check the email address, or use the sign-in link your administrator gave you. If your company should have SSO, ask your administrator.",
    remedy: "retry",
  },
  SSO_DISCOVERY_FAILED: {
    status: 400,
    audience: "admin",
    title: "The identity provider's configuration could not be read",
    action: "Check the issuer URL; its /.well-known/openid-configuration must answer with valid JSON.",
    remedy: "depends",
    administratorAction: ADMINISTRATOR_FIXES,
  },
  SSO_ISSUER_MISMATCH: {
    status: 400,
    audience: "admin",
    title: "The identity provider names another issuer",
    action: "Enter the issuer exactly as the provider's discovery document states it.",
    remedy: "administrator",
    administratorAction: ADMINISTRATOR_FIXES,
  },
  SSO_ISSUER_NOT_ALLOWED: {
    status: 400,
    audience: "admin",
    title: "That issuer address is not allowed",
    action: "Use the provider's public https address; private and local addresses are refused.",
    remedy: "administrator",
    administratorAction: ADMINISTRATOR_FIXES,
  },
  SSO_OUTBOUND_FAILED: ssoFailed(
    "retry",
    "Gatehouse could not reach your identity provider in time. Try again; if it keeps happening, give the code below to your administrator.",
  ),
  SSO_STATE_MISSING: {
    status: 400,
    audience: "person",
    title: "Sign-in could not be completed",
    action: START_AGAIN,
    remedy: "retry",
  },
  SSO_LOGOUT_STATE_MISSING: {
    status: 400,
    audience: "person",
    title: "You are signed out",
    action:
      "Your identity provider sent you back without confirming the sign-out. Sign in again when you need to.",
  },
  SSO_LOGOUT_STATE_MISMATCH: {
    status: 400,
    audience: "person",
    title: "You are signed out",
    action:
      "The sign-out confirmation from your identity provider did not match. Sign in again when you need to.",
  },
  SSO_STATE_UNKNOWN: {
    status: 400,
    audience: "person",
    title: "Sign-in could not be completed",
    action: START_AGAIN,
    remedy: "retry",
  },
  SSO_STATE_REPLAYED: {
    status: 400,
    audience: "person",
    title: "This sign-in link was already used",
    action: "Each sign-in can be completed only once. Start signing in again.",
    remedy: "retry",
  },
  SSO_STATE_EXPIRED: {
    status: 400,
    audience: "person",
    title: "Sign-in took too long",
    action: "For your security it expired. Start signing in again.",
    remedy: "retry",
  },
  SSO_BROWSER_MISMATCH: {
    status: 400,
    audience: "person",
    title: "Sign-in was started in another browser",
    action: "Finish signing in in the same browser you started in, or start again here.",
    remedy: "retry",
  },
  SSO_IDP_ERROR: {
    status: 400,
    audience: "person",
    title: "Your identity provider did not sign you in",
    action: "Try again. If it keeps happening, give the code below to your administrator.",
    remedy: "depends",
    administratorAction: ADMINISTRATOR_FIXES,
  },
  SSO_RESPONSE_ISS_MISMATCH: ssoFailed("administrator", ADMINISTRATOR_FIXES),
  SSO_TOKEN_REQUEST_FAILED: ssoFailed("depends", NOT_ACCEPTED, ADMINISTRATOR_FIXES),
  SSO_ID_TOKEN_INVALID: ssoFailed("depends", NOT_ACCEPTED, ADMINISTRATOR_FIXES),
  SSO_SAML_RESPONSE_INVALID: ssoFailed("depends", NOT_ACCEPTED, ADMINISTRATOR_FIXES),
  SSO_USERINFO_INVALID: ssoFailed("retry", NOT_ACCEPTED),
  SSO_EMAIL_MISSING: {
    status: 400,
    audience: "person",
    title: "Your identity provider did not send an email address",
    action: ADMINISTRATOR_FIXES,
    remedy: "administrator",
  },
  SSO_EMAIL_UNVERIFIED: {
    status: 400,
    audience: "person",
    title: "Your email address is not verified",
    action:
      "Your identity provider says your email is not verified. Verify it there, or ask your administrator.",
    remedy: "depends",
    administratorAction: ADMINISTRATOR_FIXES,
  },
  SSO_EMAIL_DOMAIN_NOT_ALLOWED: {
    status: 400,
    audience: "person",
    title: "That account can't sign in here",
    // Most often the provider still had another account signed in (a personal one): the person
    // can fix that; an address the connection should cover is the administrator's to add.
    action:
      "Your organization does not accept sign-ins from that address. If it is not your work account, sign in with another account; if your identity provider signs you straight back in as the same account, sign out there first. If it is your work account, give the code below to your administrator.",
    remedy: "retry",
  },
  SSO_TENANT_NOT_ALLOWED: {
    status: 400,
    audience: "person",
    title: "That account can't sign in here",
    action:
      "You signed in with an account of an organization this connection does not accept. Sign in with your work account, or give the code below to your administrator.",
    remedy: "retry",
  },
  // Another person's account, or another organization's: the connection is not at fault.
  SSO_USER_CONFLICT: ssoFailed(
    "administrator",
    "Gatehouse could not match you to one account. Trying again will not help until your administrator sorts this out.",
  ),
  LINKEDIN_NOT_CONFIGURED: {
    status: 404,
    audience: "person",
    title: "LinkedIn sign-in is not available",
    action: "Sign in with your email instead.",
  },
  PROVIDER_INTERACTION_EXPIRED: {
    status: 400,
    audience: "person",
    title: "This sign-in has expired",
    action:
      "The sign-in was started too long ago or in another browser. Go back to the application and sign in again.",
  },
  APPLICATION_NOT_FOUND: {
    status: 404,
    audience: "api",
    title: "Application not found",
    action: "It may have been deleted. List the applications and try again.",
  },
  INVITATION_NOT_FOUND: {
    status: 404,
    audience: "person",
    title: "This setup link is not valid",
    action:
      "Check that you copied the whole link. If it still does not work, ask your administrator for a new one.",
  },
  // 410 Gone: the link existed and will never work again.
  INVITATION_EXPIRED: {
    status: 410,
    audience: "person",
    title: "This setup link has expired",
    action: "Setup links work for 72 hours. Ask your administrator to send you a new one.",
  },
  INVITATION_USED: {
    status: 410,
    audience: "person",
    title: "This setup link was already used",
    action:
      "Each link works once. If you set up your account with it, sign in; otherwise ask your administrator for a new link.",
  },
  INVITATION_REVOKED: {
    status: 410,
    audience: "person",
    title: "This setup link was withdrawn",
    action: "Your administrator replaced or cancelled it. Ask them for a new link.",
  },
  MEMBER_CHANGE_REFUSED: {
    status: 409,
    audience: "admin",
    title: "That change cannot be made",
    action: "An organization always keeps at least one owner. Go back and choose another change.",
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    audience: "api",
    title: "That Idempotency-Key was used for another request",
    action: "Send a new Idempotency-Key with each distinct request.",
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    audience: "api",
    title: "A request with that Idempotency-Key is still running",
    action: "Wait for the first request to finish, then retry with the same key.",
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    audience: "person",
    title: "Gatehouse is briefly unavailable",
    action: "Nothing was lost. Wait a few seconds, then try again.",
    remedy: "retry",
  },
  INTERNAL: {
    status: 500,
    audience: "person",
    title: "Something went wrong on our side",
    action: "Try again in a moment. If it keeps happening, give the code below to your administrator.",
    remedy: "retry",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

const unknownSso: ErrorSpec = {
  status: 400,
  audience: "person",
  title: "Single sign-on failed",
  action: NOT_ACCEPTED,
};

/**
 * The registry entry of `code`. A code read back from storage that this version no longer has
 * (an old audit row) reads as a failed sign-on or an internal error, never as nothing.
 */
export function errorSpec(code: ErrorCode): ErrorSpec {
  const known: Partial<Record<string, ErrorSpec>> = ERRORS;
  return known[code] ?? (code.startsWith("SSO_") ? unknownSso : ERRORS.INTERNAL);
}
