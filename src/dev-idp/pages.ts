import { type HtmlValue, html, raw, type SafeHtml } from "../web/html.js";

/**
 * Headers for every HTML page the IdP renders. None of the pages need script, so the policy
 * forbids it outright. `form-action` is deliberately absent: browsers apply it to the redirects
 * that follow a form submission, and the login form ends with a redirect to the client.
 */
export const pageHeaders: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

const style = `
  :root { color-scheme: light; --accent: #4338ca; --border: #d4d4d8; --muted: #52525b; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
    font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f4f5; color: #18181b; }
  main { width: min(380px, calc(100vw - 32px)); background: #fff; border: 1px solid var(--border);
    border-radius: 10px; padding: 28px; box-shadow: 0 1px 3px rgb(0 0 0 / 8%); }
  .badge { display: inline-block; margin: 0 0 12px; padding: 2px 8px; border-radius: 999px;
    background: #fef3c7; color: #92400e; font-size: 12px; font-weight: 600; letter-spacing: .02em; }
  h1 { margin: 0 0 4px; font-size: 20px; }
  p { margin: 0 0 16px; color: var(--muted); }
  label { display: block; margin: 12px 0 4px; font-weight: 600; }
  input { width: 100%; padding: 9px 10px; border: 1px solid var(--border); border-radius: 6px; font: inherit; }
  input:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
  button { width: 100%; margin-top: 20px; padding: 10px; border: 0; border-radius: 6px; font: inherit;
    font-weight: 600; color: #fff; background: var(--accent); cursor: pointer; }
  button.secondary { margin-top: 8px; color: var(--muted); background: transparent; }
  .error { padding: 10px 12px; border-radius: 6px; background: #fee2e2; color: #991b1b; }
  .hint { margin: 16px 0 0; font-size: 13px; }
  dl { margin: 0; font-size: 13px; color: var(--muted); } dt { font-weight: 600; } dd { margin: 0 0 8px; }
`;

function layout(title: string, content: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Development IdP</title>
<style>${raw(style)}</style>
</head>
<body>
<main>
<p class="badge">Development only</p>
${content}
</main>
</body>
</html>
`.toString();
}

export interface LoginPageModel {
  uid: string;
  clientName: string;
  standsInFor: string;
  email?: string;
  error?: string;
}

export function loginPage(model: LoginPageModel): string {
  const base = `/interaction/${encodeURIComponent(model.uid)}`;
  return layout(
    "Sign in",
    html`<h1>Development IdP (stands in for ${model.standsInFor})</h1>
<p>Sign in to continue to <strong>${model.clientName}</strong>.</p>
${model.error === undefined ? "" : html`<p class="error" role="alert">${model.error}</p>`}
<form method="post" action="${base}/login">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required${model.email ? "" : " autofocus"} value="${model.email ?? ""}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${model.email ? " autofocus" : ""}>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${base}/abort">
<button type="submit" class="secondary">Cancel</button>
</form>
<p class="hint">The demo users and their passwords are printed by the command that started this IdP.</p>`,
  );
}

/**
 * `form` is oidc-provider's own hidden form (action URL and CSRF token), so it is trusted markup.
 * The button sits outside it and targets it by id; `logout=yes` ends the whole IdP session rather
 * than only this client's part of it.
 */
export function logoutPage(form: SafeHtml, clientName: string | undefined): string {
  return layout(
    "Sign out",
    html`<h1>End your Development IdP session?</h1>
<p>${clientName === undefined ? "An application" : html`<strong>${clientName}</strong>`} asked to end your session here.</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>`,
  );
}

export function signedOutPage(clientName: string | undefined): string {
  return layout(
    "Signed out",
    html`<h1>You are signed out</h1>
<p>Your Development IdP session has ended${clientName === undefined ? "" : html` for <strong>${clientName}</strong>`}.</p>`,
  );
}

export function messagePage(
  title: string,
  message: string,
  details: readonly [string, string][] = [],
): string {
  const list: HtmlValue =
    details.length === 0
      ? ""
      : html`<dl>${details.map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl>`;
  return layout(title, html`<h1>${title}</h1><p>${message}</p>${list}`);
}
