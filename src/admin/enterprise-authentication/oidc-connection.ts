import type { OidcConnectionView } from "../../connections/view.js";
import type { DomainView } from "../../domains/view.js";
import type { AuditEvent } from "../../store/audit.js";
import { html, type SafeHtml } from "../../web/html.js";
import { utcTime } from "../../web/time.js";
import { adminPage, adminPaths, copyField, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { dangerZone } from "./delete.js";
import { connectionPaths } from "./paths.js";
import type { PeopleLeft } from "./people-left.js";
import { signInActivity } from "./sign-in-activity.js";
import { statusActions } from "./status.js";

export interface ConnectionPageModel {
  session: AdminSession;
  csrfToken: string;
  connection: OidcConnectionView;
  /** Recent sign-in attempts through it. */
  activity: AuditEvent[];
  homePageUrl: string;
  /** How many connections the organization has, this one included. */
  connectionCount: number;
  notice?: SafeHtml | undefined;
  /** The organization's domains, for which of a connection's domains work now. */
  organizationDomains: readonly DomainView[];
  /** Who the connection would leave behind, for Delete's confirmation. */
  people: PeopleLeft;
}

/** A connection's domains split by whether they work now; pending ones wait for verification. */
function domainsOf(c: OidcConnectionView, m: ConnectionPageModel) {
  const views = c.domains.map(
    (d) => m.organizationDomains.find((o) => o.domain === d) ?? { domain: d, displayName: d, active: false },
  );
  return {
    active: views.filter((v) => v.active).map((v) => v.displayName),
    pending: views.filter((v) => !v.active).map((v) => v.displayName),
  };
}

function pendingNote(pending: readonly string[]): SafeHtml {
  if (pending.length === 0) return html``;
  return html` <span data-testid="connection-pending-domains">${pending.join(", ")} ${pending.length === 1 ? "starts" : "start"} working once verified on the <a href="${adminPaths.domains}">Domains</a> page.</span>`;
}

const authMethodLabel: Record<string, string> = {
  client_secret_basic: "Client secret, HTTP Basic (client_secret_basic)",
  client_secret_post: "Client secret in the request body (client_secret_post)",
  private_key_jwt: "Signed JWT (private_key_jwt)",
};

function connectionSection(c: OidcConnectionView, m: ConnectionPageModel): SafeHtml {
  const enabled = c.status === "enabled";
  const { active, pending } = domainsOf(c, m);
  return html`<section class="card" data-testid="oidc-connection" data-connection-id="${c.id}">
  <div class="page-head">
    <h2 class="section-title">${c.name}</h2>
    <span class="badge ${enabled ? "badge-success" : "badge-warning"}" data-status="${c.status}">${enabled ? "Enabled" : "Disabled"}</span>
  </div>
  ${
    enabled && active.length > 0
      ? html`<p class="muted">People at ${active.join(", ")} sign in through this connection; password and LinkedIn sign-in are refused for them.${pendingNote(pending)}</p>`
      : enabled
        ? html`<p class="muted">This connection signs no one in until one of its domains is verified.${pendingNote(pending)}</p>`
        : html`<p class="muted">This connection signs no one in. People at ${c.domains.join(", ")} can sign in only with a password or LinkedIn, if they have one.</p>`
  }
  <dl class="facts">
    <div><dt>Issuer URL</dt><dd data-field="issuer"><code>${c.issuer}</code></dd></div>
    <div><dt>Client ID</dt><dd data-field="client-id"><code>${c.clientId}</code></dd></div>
    <div><dt>Client secret</dt><dd data-field="client-secret">${
      c.jwksUrl
        ? html`<span class="muted">Not used: Gatehouse signs its requests with its own key</span>`
        : html`<span>••••••••</span> <span class="muted">stored encrypted, never shown</span>`
    }</dd></div>
    <div><dt>Identity provider domain${c.domains.length === 1 ? "" : "s"}</dt><dd data-field="domains">${c.domains.join(", ")}</dd></div>
    <div><dt>Token endpoint authentication</dt><dd data-field="token-endpoint-auth-method">${authMethodLabel[c.tokenEndpointAuthMethod] ?? c.tokenEndpointAuthMethod}</dd></div>
    <div><dt>Scopes</dt><dd data-field="scopes"><code>${c.scopes.join(" ")}</code></dd></div>
    <div><dt>Email claim</dt><dd data-field="email-claim"><code>${c.emailClaim}</code></dd></div>
    ${c.allowedTenants.length > 0 ? html`<div><dt>Allowed tenants</dt><dd data-field="allowed-tenants"><code>${c.allowedTenants.join(" ")}</code></dd></div>` : ""}
    <div><dt>Roles from groups</dt><dd data-field="role-rules">${
      c.roleRules.length > 0
        ? html`<code>${c.groupsClaim}</code>: ${c.roleRules.map((r, i) => html`${i > 0 ? "; " : ""}<code>${r.group}</code> → ${r.role}`)}; otherwise ${c.defaultRole}`
        : html`<span class="muted">No rules: new users are ${c.defaultRole === "admin" ? "admins" : "members"}; roles are managed under People</span>`
    }</dd></div>
    <div><dt>Clock tolerance</dt><dd data-field="clock-skew">${c.clockSkewSeconds} seconds</dd></div>
    <div><dt>Created</dt><dd data-field="created">${utcTime(c.createdAt)}</dd></div>
  </dl>
  ${copyField({ id: `callback-url-${c.id}`, label: "Callback URL", value: c.callbackUrl, help: "The sign-in redirect URI in your identity provider." })}
  ${copyField({ id: `home-url-${c.id}`, label: "Sign-out redirect URL (home page)", value: m.homePageUrl, help: "The sign-out redirect URI in your identity provider." })}
  ${
    c.jwksUrl
      ? copyField({
          id: `jwks-url-${c.id}`,
          label: "JWKS URL",
          value: c.jwksUrl,
          help: "For private_key_jwt: register it as the application's JWKS URL (public keys) in your identity provider.",
        })
      : ""
  }
  <form method="post" action="${adminPaths.oidc}/${c.id}/test" class="actions">
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    <a class="btn btn-primary" href="${connectionPaths.edit(c.id)}" data-testid="edit-connection">Edit settings</a>
    <button type="submit" class="btn btn-secondary" data-testid="test-sign-in">Test sign-in</button>
    <span class="field-help">Test sign-in goes through your identity provider and back with these settings${enabled ? "" : ", even while disabled"}; nobody is signed in.</span>
  </form>
  ${statusActions(c, m.csrfToken)}
  ${dangerZone({ ...c, people: m.people }, m.csrfToken)}
</section>
${signInActivity(c.id, m.activity)}`;
}

/** One connection: its settings, what to copy, its actions, Delete at the bottom, its activity. */
export function connectionPage(m: ConnectionPageModel): string {
  const c = m.connection;
  return adminPage({
    title: `Open ID Connect: ${c.name}`,
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [
      crumbs.administration,
      crumbs.enterpriseAuthentication,
      m.connectionCount > 1 ? crumbs.oidc : { label: crumbs.oidc.label },
      ...(m.connectionCount > 1 ? [{ label: c.name }] : []),
    ],
    body: html`<section class="page-head">
  <h1>Open ID Connect</h1>
  <p class="lead">${
    m.connectionCount > 1
      ? html`One of your ${m.connectionCount} single sign-on connections. <a href="${adminPaths.oidc}">All connections</a>`
      : "Your single sign-on connection."
  }</p>
</section>
${m.notice ?? ""}
${connectionSection(c, m)}
${addAnother()}`,
  });
}

function addAnother() {
  return html`<section class="card" data-testid="add-connection">
  <h2 class="section-title">Another identity provider</h2>
  <p class="muted">Each connection signs in the people of its own domains: for example Okta for acme.com and Microsoft Entra ID for acme.co.uk.</p>
  <p class="actions"><a class="btn btn-secondary" href="${connectionPaths.new}" data-testid="add-connection-link">Add a connection</a></p>
</section>`;
}

export interface ConnectionListModel {
  session: AdminSession;
  csrfToken: string;
  connections: OidcConnectionView[];
  notice?: SafeHtml | undefined;
}

/** Several connections: one row each, opening its own page; a sign-in is routed by its email's domain. */
export function connectionListPage(m: ConnectionListModel): string {
  return adminPage({
    title: "Open ID Connect",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, crumbs.enterpriseAuthentication, { label: crumbs.oidc.label }],
    body: html`<section class="page-head">
  <h1>Open ID Connect</h1>
  <p class="lead">Your single sign-on connections. A person signing in is sent to the connection that lists their email's domain.</p>
</section>
${m.notice ?? ""}
<section class="card" data-testid="connection-list">
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">Connection</th><th scope="col">Domains</th><th scope="col">Issuer</th><th scope="col">Status</th></tr></thead>
    <tbody>${m.connections.map(
      (c) => html`<tr data-testid="connection-row" data-connection-id="${c.id}">
  <td><a href="${connectionPaths.page(c.id)}" data-testid="open-connection">${c.name}</a></td>
  <td data-field="domains">${c.domains.join(", ")}</td>
  <td><code>${c.issuer}</code></td>
  <td><span class="badge ${c.status === "enabled" ? "badge-success" : "badge-warning"}" data-status="${c.status}">${c.status === "enabled" ? "Enabled" : "Disabled"}</span></td>
</tr>`,
    )}</tbody>
  </table></div>
</section>
${addAnother()}`,
  });
}
