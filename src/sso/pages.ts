import { html } from "../web/html.js";
import { layout } from "../web/layout.js";

export interface SsoScreenOptions {
  value?: string;
  returnTo: string;
  error?: string | undefined;
}

/** The SSO screen: a work email, or the organization's sign-in name (its slug). */
export function ssoScreenPage(o: SsoScreenOptions): string {
  return layout({
    title: "Sign in with SSO",
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>Sign in with SSO</h1>
  <p class="muted">Use your work email, or your organization's sign-in name.</p>
  ${o.error ? html`<p class="alert alert-error" role="alert" data-error-code="SSO_NO_CONNECTION">${o.error}</p>` : ""}
  <form method="get" action="/sso/start" class="stack">
    ${o.returnTo === "/" ? "" : html`<input type="hidden" name="return_to" value="${o.returnTo}">`}
    <div class="field${o.error ? " has-error" : ""}">
      <label for="sso-email">Work email or organization sign-in name</label>
      <input id="sso-email" name="email" type="text" autocomplete="username" required autofocus value="${o.value ?? ""}" placeholder="name@company.com">
    </div>
    <button type="submit" class="btn btn-primary btn-block">Continue with SSO</button>
  </form>
  <p class="auth-links"><a href="/login">Other ways to sign in</a></p>
</section>`,
  });
}

export interface ConnectionChoiceOptions {
  organization: { slug: string; name: string };
  connections: string[];
  returnTo: string;
}

/** An organization's sign-in URL when it has several connections: one button per connection. */
export function connectionChoicePage(o: ConnectionChoiceOptions): string {
  const link = (name: string) => {
    const query = new URLSearchParams({ organization: o.organization.slug, connection: name });
    if (o.returnTo !== "/") query.set("return_to", o.returnTo);
    return `/sso/start?${query.toString()}`;
  };
  return layout({
    title: `Sign in to ${o.organization.name}`,
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>Sign in to ${o.organization.name}</h1>
  <p class="muted">Choose how to sign in.</p>
  <ul class="stack choice-list">
    ${o.connections.map((name) => html`<li><a class="btn btn-block" href="${link(name)}">Continue with ${name}</a></li>`)}
  </ul>
  <p class="auth-links"><a href="/login">Other ways to sign in</a></p>
</section>`,
  });
}
