import { errorSpec, LOCKED_OUT_HINT, type Remedy } from "../error-registry.js";
import type { ErrorCode } from "../errors.js";
import type { ActiveSession } from "../store/sessions.js";
import { html } from "./html.js";
import { layout } from "./layout.js";

export interface ErrorPageOptions {
  code: ErrorCode;
  /** Overrides the standard title's detail line; must already be safe for a person to read. */
  message?: string | undefined;
  traceId?: string | undefined;
  /** The reference code is in the organization's sign-in activity, where an admin can look it up. */
  traceListed?: boolean | undefined;
  /** A single sign-on refusal's remedy (src/error-remedy.ts): what the page tells the person to do. */
  remedy?: Remedy | undefined;
  session?: ActiveSession | undefined;
  csrfToken?: string | undefined;
  /** Where the main button leads. */
  next?: { href: string; label: string } | undefined;
  /** A second way out, by POST with `csrfToken`: back to the application whose request failed. */
  back?: { action: string; label: string } | undefined;
}

export function errorPage(options: ErrorPageOptions): string {
  const human = errorSpec(options.code);
  const administrator = options.remedy === "administrator";
  const action = administrator ? (human.administratorAction ?? human.action) : human.action;
  const next =
    options.next ??
    (options.session
      ? { href: "/", label: "Go to the home page" }
      : { href: "/login", label: "Back to sign-in" });
  return layout({
    title: human.title,
    variant: "auth",
    session: options.session,
    csrfToken: options.csrfToken,
    body: html`<section class="card auth-card" role="alert" data-error-code="${options.code}"${options.remedy ? html` data-remedy="${options.remedy}"` : ""}>
  <div class="status-icon status-error" aria-hidden="true">!</div>
  <h1>${human.title}</h1>
  ${options.message ? html`<p class="lead">${options.message}</p>` : ""}
  <p data-testid="error-action">${action}</p>
  ${options.traceId ? html`<p class="trace">Reference code: <code class="trace-id">${options.traceId}</code><br><span class="muted" data-testid="trace-where">${options.traceListed ? "Give this code to your administrator; it identifies this attempt in the sign-in activity." : "Give this code to your administrator; it identifies this attempt in Gatehouse's logs."}</span></p>` : ""}
  ${administrator ? html`<p class="muted" data-testid="locked-out-hint">${LOCKED_OUT_HINT}</p>` : ""}
  <p class="actions"><a class="btn btn-primary" href="${next.href}">${next.label}</a></p>
  ${
    options.back
      ? html`<form method="post" action="${options.back.action}" class="actions">
    <input type="hidden" name="_csrf" value="${options.csrfToken ?? ""}">
    <button type="submit" class="btn btn-secondary" data-testid="back-to-application">${options.back.label}</button>
  </form>`
      : ""
  }
</section>`,
  });
}
