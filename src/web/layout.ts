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
  /** The top navigation entry to mark as current; admin pages are recognised by their breadcrumbs. */
  section?: "home" | "admin" | undefined;
}

type Section = PageOptions["section"];

function isAdminRole(session: ActiveSession | undefined): boolean {
  return session?.role === "owner" || session?.role === "admin";
}

// Pages pass breadcrumbs rather than their path, so the trail tells which nav entry is current.
function sectionOf(options: PageOptions): Section {
  if (options.section) return options.section;
  const first = options.breadcrumbs?.[0];
  if (first?.href?.startsWith("/admin") || first?.label === "Administration") return "admin";
  return undefined;
}

function navLink(href: string, label: string, current: boolean): SafeHtml {
  return current
    ? html`<a href="${href}" aria-current="page">${label}</a>`
    : html`<a href="${href}">${label}</a>`;
}

function header(
  session: ActiveSession | undefined,
  csrfToken: string | undefined,
  section: Section,
): SafeHtml {
  if (!session) {
    return html`<header class="topbar">
  <div class="topbar-inner">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">G</span><span>Gatehouse</span></a>
    <nav class="topnav" aria-label="Main"><a href="/login">Sign in</a></nav>
  </div>
</header>`;
  }
  return html`<header class="topbar">
  <div class="topbar-inner">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">G</span><span>Gatehouse</span></a>
    <nav class="topnav" aria-label="Main">
      ${navLink("/", "Home", section === "home")}${isAdminRole(session) ? navLink("/admin", "Administration", section === "admin") : ""}
    </nav>
    <div class="account">
      <span class="whoami" title="${session.email}">${session.organizationName ? html`<span class="org">${session.organizationName}</span>` : ""}<span class="email">${session.email}</span></span>
      <form method="post" action="/logout" class="inline">
        <input type="hidden" name="_csrf" value="${csrfToken ?? ""}">
        <button type="submit" class="btn btn-ghost">Sign out</button>
      </form>
    </div>
  </div>
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
<meta name="color-scheme" content="light dark">
<title>${options.title} · Gatehouse</title>
<link rel="stylesheet" href="/assets/styles.css">
<script src="/assets/app.js" defer></script>
</head>
<body class="${variant}">
<a class="skip-link" href="#main">Skip to content</a>
${header(options.session, options.csrfToken, sectionOf(options))}
<main id="main" class="${variant === "auth" ? "auth-main" : "app-main"}" tabindex="-1">
${crumbs(options.breadcrumbs)}
${options.body}
</main>
<footer class="footer">Gatehouse · enterprise single sign-on</footer>
</body>
</html>`.toString();
}
