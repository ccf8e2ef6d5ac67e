import type { ErrorOut, KoaContext } from "oidc-provider";
import { securityHeaders } from "../server/security-headers.js";
import { html, raw } from "../web/html.js";
import { layout } from "../web/layout.js";

let headers: Record<string, string> | undefined;

function setPageHeaders(ctx: KoaContext): void {
  // The headers do not depend on the base URL except HSTS, which is the proxy's concern for these few pages.
  headers ??= securityHeaders({ baseUrl: new URL("http://localhost/") });
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
}

/** Pages oidc-provider renders carry Gatehouse's own security headers (CSP without inline script). */
export function sendProviderPage(ctx: KoaContext, status: number, body: string): void {
  setPageHeaders(ctx);
  ctx.set("cache-control", "no-store");
  ctx.status = status;
  ctx.type = "html";
  ctx.body = body;
}

/** RP-Initiated Logout's confirmation: `form` is oidc-provider's form with its xsrf token. */
export function providerLogoutPage(form: string, applicationName: string | undefined): string {
  return layout({
    title: "Sign out",
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>Sign out${applicationName ? html` of ${applicationName}` : ""}?</h1>
  <p class="lead">This signs you out of Gatehouse and of the applications you signed in to through it.</p>
  ${raw(form)}
  <p class="actions">
    <button type="submit" class="btn btn-primary" form="op.logoutForm" name="logout" value="yes" data-testid="provider-sign-out">Sign out</button>
  </p>
</section>`,
  });
}

export function providerSignedOutPage(applicationName: string | undefined): string {
  return layout({
    title: "Signed out",
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>You are signed out</h1>
  <p class="lead">${applicationName ? html`You have signed out of ${applicationName}.` : "You have signed out."}</p>
  <p class="actions"><a class="btn btn-primary" href="/login">Sign in again</a></p>
</section>`,
  });
}

/** Protocol errors shown to a person (a bad redirect_uri cannot be redirected to). */
export function providerErrorPage(out: ErrorOut): string {
  return layout({
    title: "Sign-in request refused",
    variant: "auth",
    body: html`<section class="card auth-card" role="alert" data-error-code="${out.error}">
  <div class="status-icon status-error" aria-hidden="true">!</div>
  <h1>The application's sign-in request was refused</h1>
  <p class="lead">${out.error_description ?? out.error}</p>
  <p>Go back to the application and try again. If this keeps happening, tell the application's operator: the error is <code>${out.error}</code>.</p>
</section>`,
  });
}

/**
 * The authorization endpoint's answers (`/oidc/auth` and its resume after the interaction) carry
 * the pages' security headers too, set before oidc-provider answers: its `form_post` response
 * mode renders a page whose one inline script it then admits by hash in that policy's
 * `script-src`, so nothing else runs there, and no other site can frame it.
 */
export function pageHeadersAt(path: string) {
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    if (ctx.path === path || ctx.path.startsWith(`${path}/`)) setPageHeaders(ctx);
    await next();
  };
}
