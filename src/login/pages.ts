import { html, type SafeHtml } from "../web/html.js";
import { layout } from "../web/layout.js";

export interface EmailStepOptions {
  csrfToken: string;
  email?: string;
  returnTo: string;
  error?: string | undefined;
  linkedinEnabled: boolean;
  notice?: string | undefined;
}

function returnToField(returnTo: string): SafeHtml {
  return returnTo === "/" ? html`` : html`<input type="hidden" name="return_to" value="${returnTo}">`;
}

export function emailStepPage(o: EmailStepOptions): string {
  return layout({
    title: "Sign in",
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>Sign in</h1>
  ${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ""}
  <form method="post" action="/login" class="stack" novalidate>
    <input type="hidden" name="_csrf" value="${o.csrfToken}">
    ${returnToField(o.returnTo)}
    <div class="field${o.error ? " has-error" : ""}">
      <label for="email">Work email</label>
      <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${o.email ?? ""}"${o.error ? html` aria-invalid="true" aria-describedby="email-error"` : ""}>
      ${o.error ? html`<p class="field-error" id="email-error">${o.error}</p>` : ""}
    </div>
    <button type="submit" class="btn btn-primary btn-block">Continue</button>
  </form>
  ${
    o.linkedinEnabled
      ? html`<div class="divider"><span>or</span></div>
  <a class="btn btn-secondary btn-block btn-linkedin" href="/login/linkedin${o.returnTo === "/" ? "" : `?return_to=${encodeURIComponent(o.returnTo)}`}">Continue with LinkedIn</a>`
      : ""
  }
  <p class="auth-links"><a href="/sso${o.returnTo === "/" ? "" : `?return_to=${encodeURIComponent(o.returnTo)}`}">Sign in with SSO</a></p>
</section>`,
  });
}

export interface PasswordStepOptions {
  csrfToken: string;
  email: string;
  returnTo: string;
  error?: string | undefined;
  /** Offer LinkedIn to those who have no password (the same words for every address). */
  linkedinEnabled: boolean;
}

export function passwordStepPage(o: PasswordStepOptions): string {
  return layout({
    title: "Enter your password",
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>Enter your password</h1>
  <p class="identity-chip"><span>${o.email}</span> <a href="/login?email=${encodeURIComponent(o.email)}">Change</a></p>
  ${o.error ? html`<p class="alert alert-error" role="alert" data-testid="login-error">${o.error}</p>` : ""}
  <form method="post" action="/login/password" class="stack">
    <input type="hidden" name="_csrf" value="${o.csrfToken}">
    ${returnToField(o.returnTo)}
    <input type="hidden" name="email" value="${o.email}" autocomplete="username">
    <div class="field">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
    </div>
    <button type="submit" class="btn btn-primary btn-block">Sign in</button>
  </form>
  <p class="auth-links muted" data-testid="no-password-help">${
    o.linkedinEnabled
      ? html`No password? If you joined with LinkedIn, <a href="/login/linkedin${o.returnTo === "/" ? "" : `?return_to=${encodeURIComponent(o.returnTo)}`}">continue with LinkedIn</a>. `
      : ""
  }Forgot your password? Ask your organization's administrator.</p>
</section>`,
  });
}

export interface SsoRequiredOptions {
  organizationName: string;
  email: string;
  returnTo: string;
  /** What the person tried: shapes the sentence. */
  attempted: "password" | "linkedin";
}

export function ssoRequiredPage(o: SsoRequiredOptions): string {
  const startHref = `/sso/start?email=${encodeURIComponent(o.email)}${o.returnTo === "/" ? "" : `&return_to=${encodeURIComponent(o.returnTo)}`}`;
  return layout({
    title: "Single sign-on required",
    variant: "auth",
    body: html`<section class="card auth-card" role="alert" data-error-code="AUTH_SSO_REQUIRED">
  <div class="status-icon status-info" aria-hidden="true">i</div>
  <h1>${o.organizationName} requires single sign-on</h1>
  <p class="lead">${o.attempted === "linkedin" ? "LinkedIn sign-in" : "Password sign-in"} is turned off for <strong>${o.email}</strong>.</p>
  <p>Your organization signs you in through its own identity provider. Continue with SSO to use your company account.</p>
  <p class="actions"><a class="btn btn-primary btn-block" href="${startHref}" data-testid="continue-with-sso">Continue with SSO</a></p>
  <p class="auth-links"><a href="/login">Use a different account</a></p>
</section>`,
  });
}

export function rateLimitedPage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return layout({
    title: "Too many attempts",
    variant: "auth",
    body: html`<section class="card auth-card" role="alert" data-error-code="AUTH_RATE_LIMITED">
  <div class="status-icon status-error" aria-hidden="true">!</div>
  <h1>Too many sign-in attempts</h1>
  <p class="lead">For your security, password sign-in is paused for this account or network.</p>
  <p>Try again in about ${minutes} minute${minutes === 1 ? "" : "s"}. If you forgot your password, ask your administrator.</p>
  <p class="actions"><a class="btn btn-secondary" href="/login">Back to sign-in</a></p>
</section>`,
  });
}
