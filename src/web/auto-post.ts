import { html } from "./html.js";
import { layout } from "./layout.js";

/**
 * A form that carries a protocol message to the IdP by POST (SAML HTTP-POST binding). The
 * script (public/app.js) submits it (no inline script under the CSP); without scripts the
 * person presses Continue.
 */
export function autoPostPage(url: string, fields: Readonly<Record<string, string>>): string {
  return layout({
    title: "Signing in",
    variant: "auth",
    body: html`<section class="card auth-card">
  <h1>Signing in…</h1>
  <form method="post" action="${url}" data-autosubmit>
    ${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
    <p class="actions"><button type="submit" class="btn btn-primary">Continue</button></p>
  </form>
</section>`,
  });
}
