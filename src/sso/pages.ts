import { html } from "../web/html.js";
import { layout } from "../web/layout.js";

export interface SsoScreenOptions {
  value?: string;
  returnTo: string;
  error?: string | undefined;
}

/** The SSO screen: a work email or the connection's name. */
export function ssoScreenPage(o: SsoScreenOptions): string {
  return layout({
    title: "Sign in with SSO",
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>Sign in with SSO</h1>
  <p class="muted">Use your work email, or the name of your company's connection.</p>
  ${o.error ? html`<p class="alert alert-error" role="alert" data-error-code="SSO_NO_CONNECTION">${o.error}</p>` : ""}
  <form method="get" action="/sso/start" class="stack">
    ${o.returnTo === "/" ? "" : html`<input type="hidden" name="return_to" value="${o.returnTo}">`}
    <div class="field${o.error ? " has-error" : ""}">
      <label for="sso-email">Work email or connection name</label>
      <input id="sso-email" name="email" type="text" autocomplete="username" required autofocus value="${o.value ?? ""}" placeholder="name@company.com">
    </div>
    <button type="submit" class="btn btn-primary btn-block">Continue with SSO</button>
  </form>
  <p class="auth-links"><a href="/login">Other ways to sign in</a></p>
</section>`,
  });
}
