import type { ErrorCode } from "../errors.js";

/** What a person reads for each error code: what happened, and what to do about it. */
export interface HumanMessage {
  title: string;
  action: string;
}

const messages: Partial<Record<ErrorCode, HumanMessage>> = {
  AUTH_INVALID_CREDENTIALS: {
    title: "Sign-in failed",
    action: "Check your email and password and try again.",
  },
  AUTH_RATE_LIMITED: {
    title: "Too many attempts",
    action: "For your security, sign-in is paused for a while. Wait a few minutes, then try again.",
  },
  AUTH_SSO_REQUIRED: {
    title: "Single sign-on required",
    action: "Your organization requires you to sign in with your company account. Continue with SSO.",
  },
  AUTH_FORBIDDEN: {
    title: "You don't have access to this page",
    action:
      "Only your organization's owners and administrators can open Administration. Ask one of them for access.",
  },
  AUTH_UNAUTHENTICATED: { title: "Please sign in", action: "Sign in to continue." },
  CSRF_INVALID: {
    title: "This form has expired",
    action:
      "The page was open too long or was submitted from somewhere else. Go back, reload the page and try again.",
  },
  REQUEST_INVALID: { title: "That request could not be read", action: "Go back and try again." },
  PROVIDER_INTERACTION_EXPIRED: {
    title: "This sign-in has expired",
    action:
      "The sign-in was started too long ago or in another browser. Go back to the application and sign in again.",
  },
  APPLICATION_NOT_FOUND: {
    title: "Application not found",
    action: "It may have been deleted. List the applications and try again.",
  },
  INVITATION_NOT_FOUND: {
    title: "This setup link is not valid",
    action:
      "Check that you copied the whole link. If it still does not work, ask your administrator for a new one.",
  },
  INVITATION_EXPIRED: {
    title: "This setup link has expired",
    action: "Setup links work for 72 hours. Ask your administrator to send you a new one.",
  },
  INVITATION_USED: {
    title: "This setup link was already used",
    action:
      "Each link works once. If you set up your account with it, sign in; otherwise ask your administrator for a new link.",
  },
  INVITATION_REVOKED: {
    title: "This setup link was withdrawn",
    action: "Your administrator replaced or cancelled it. Ask them for a new link.",
  },
  MEMBER_CHANGE_REFUSED: {
    title: "That change cannot be made",
    action: "An organization always keeps at least one owner. Go back and choose another change.",
  },
  NOT_FOUND: { title: "Page not found", action: "Check the address, or go back to the home page." },
  DOMAIN_NOT_FOUND: {
    title: "Domain not found",
    action: "It may have been removed. Go back and reload.",
  },
  DOMAIN_NOT_ALLOWED: {
    title: "That domain cannot be added",
    action: "Enter your company's own email domain, such as acme.com.",
  },
  DOMAIN_VERIFIED_ELSEWHERE: {
    title: "That domain belongs to another organization",
    action:
      "Another organization has proven it owns this domain. If that is a mistake, ask your Gatehouse operator.",
  },
  CONNECTION_NOT_FOUND: {
    title: "Connection not found",
    action: "It may have been deleted. Go back and reload.",
  },
  SSO_NO_CONNECTION: {
    title: "No single sign-on for that address",
    action:
      "Check the email address, or use the sign-in link your administrator gave you. If your company should have SSO, ask your administrator.",
  },
  SSO_STATE_MISSING: {
    title: "Sign-in could not be completed",
    action: "Start signing in again from the sign-in page.",
  },
  SSO_STATE_UNKNOWN: {
    title: "Sign-in could not be completed",
    action: "Start signing in again from the sign-in page.",
  },
  SSO_LOGOUT_STATE_MISSING: {
    title: "You are signed out",
    action:
      "Your identity provider sent you back without confirming the sign-out. Sign in again when you need to.",
  },
  SSO_LOGOUT_STATE_MISMATCH: {
    title: "You are signed out",
    action:
      "The sign-out confirmation from your identity provider did not match. Sign in again when you need to.",
  },
  SSO_STATE_REPLAYED: {
    title: "This sign-in link was already used",
    action: "Each sign-in can be completed only once. Start signing in again.",
  },
  SSO_STATE_EXPIRED: {
    title: "Sign-in took too long",
    action: "For your security it expired. Start signing in again.",
  },
  SSO_BROWSER_MISMATCH: {
    title: "Sign-in was started in another browser",
    action: "Finish signing in in the same browser you started in, or start again here.",
  },
  SSO_IDP_ERROR: {
    title: "Your identity provider did not sign you in",
    action: "Try again. If it keeps happening, give the code below to your administrator.",
  },
  SSO_SAML_RESPONSE_INVALID: {
    title: "Your identity provider's answer was refused",
    action:
      "Gatehouse could not accept what your identity provider sent, so you are not signed in. Try again; if it keeps happening, give the code below to your administrator.",
  },
  SSO_EMAIL_DOMAIN_NOT_ALLOWED: {
    title: "That account can't sign in here",
    action:
      "Your identity provider signed you in with an email address this connection does not cover. Give the code below to your administrator.",
  },
  SSO_TENANT_NOT_ALLOWED: {
    title: "That account can't sign in here",
    action:
      "You signed in with an account of an organization this connection does not accept. Sign in with your work account, or give the code below to your administrator.",
  },
  SSO_EMAIL_UNVERIFIED: {
    title: "Your email address is not verified",
    action:
      "Your identity provider says your email is not verified. Verify it there, or ask your administrator.",
  },
  SSO_EMAIL_MISSING: {
    title: "Your identity provider did not send an email address",
    action: "Give the code below to your administrator: the connection must release the email claim.",
  },
  LINKEDIN_NOT_CONFIGURED: {
    title: "LinkedIn sign-in is not available",
    action: "Sign in with your email instead.",
  },
  SERVICE_UNAVAILABLE: {
    title: "Gatehouse is briefly unavailable",
    action: "Nothing was lost. Wait a few seconds, then try again.",
  },
  INTERNAL: {
    title: "Something went wrong on our side",
    action: "Try again in a moment. If it keeps happening, give the code below to your administrator.",
  },
};

const ssoDefault: HumanMessage = {
  title: "Single sign-on failed",
  action:
    "Your company's identity provider sent an answer Gatehouse could not accept. Try again; if it keeps happening, give the code below to your administrator.",
};

export function humanMessage(code: ErrorCode): HumanMessage {
  return (
    messages[code] ??
    (code.startsWith("SSO_")
      ? ssoDefault
      : { title: "Something went wrong", action: "Go back and try again." })
  );
}
