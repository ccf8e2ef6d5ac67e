import type { ActiveSession } from "../store/sessions.js";
import { type HtmlValue, html, type SafeHtml } from "./html.js";

export interface Crumb {
  label: string;
  href?: string;
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  session?: ActiveSession | undefined;
  /** Needed for the sign-out button whenever there is a session. */
  csrfToken?: string | undefined;
  breadcrumbs?: Crumb[];
  /** `auth` is the centered card used by sign-in and error pages. */
  variant?: "app" | "auth";
}

function isAdminRole(session: ActiveSession | undefined): boolean {
  return session?.role === "owner" || session?.role === "admin";
}

function header(session: ActiveSession | undefined, csrfToken: string | undefined): SafeHtml {
  return html`<header class="topbar">
  <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">G</span><span>Gatehouse</span></a>
  <nav class="topnav" aria-label="Main">
    ${
      session
        ? html`<a href="/">Home</a>${isAdminRole(session) ? html`<a href="/admin">Administration</a>` : ""}
    <span class="whoami" title="${session.email}">${session.organizationName ? html`<span class="org">${session.organizationName}</span>` : ""}${session.email}</span>
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="_csrf" value="${csrfToken ?? ""}">
      <button type="submit" class="btn btn-ghost">Sign out</button>
    </form>`
        : html`<a href="/login">Sign in</a>`
    }
  </nav>
</header>`;
}

function crumbs(list: Crumb[] | undefined): HtmlValue {
  if (!list || list.length === 0) return "";
  return html`<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>${list.map((c, i) =>
    c.href && i < list.length - 1
      ? html`<li><a href="${c.href}">${c.label}</a></li>`
      : html`<li aria-current="page">${c.label}</li>`,
  )}</ol></nav>`;
}

export function layout(options: PageOptions): string {
  const variant = options.variant ?? "app";
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Gatehouse</title>
<link rel="stylesheet" href="/assets/styles.css">
<script src="/assets/app.js" defer></script>
</head>
<body class="${variant}">
${header(options.session, options.csrfToken)}
<main id="main" class="${variant === "auth" ? "auth-main" : "app-main"}">
${crumbs(options.breadcrumbs)}
${options.body}
</main>
<footer class="footer">Gatehouse · enterprise single sign-on</footer>
</body>
</html>`.toString();
}
