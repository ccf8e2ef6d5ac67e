import { html } from "../web/html.js";
import { adminPage, adminPaths, copyField, crumbs } from "./components.js";
import { type IntegrationState, stateBadge, stateLabel } from "./enterprise-authentication/state.js";
import type { AdminSession } from "./guard.js";

export interface OverviewPageModel {
  session: AdminSession;
  csrfToken: string;
  oidcState: IntegrationState;
  samlState: IntegrationState;
  userCount: number;
  /**
   * The organization's own SSO sign-in link (by its slug, which no other organization can take);
   * null while no enabled connection with a verified domain would take it anywhere.
   */
  signInUrl: string | null;
}

const integrations = [
  { key: "oidc", label: "Open ID Connect" },
  { key: "saml", label: "SAML 2.0" },
] as const;

export function overviewPage(m: OverviewPageModel): string {
  const { session } = m;
  return adminPage({
    title: "Administration",
    session,
    csrfToken: m.csrfToken,
    breadcrumbs: [{ label: crumbs.administration.label }],
    body: html`<section class="page-head">
  <h1>Administration</h1>
  <p class="lead">Manage how people at ${session.organizationName} sign in.</p>
</section>
<div class="tile-grid">
  <section class="card tile" data-testid="admin-enterprise-authentication">
    <h2 class="section-title">Enterprise Authentication</h2>
    <p>Let your staff sign in with your company's identity provider, such as Okta or Microsoft Entra ID.</p>
    <ul class="integration-states">${integrations.map(({ key, label }) => {
      const state = key === "oidc" ? m.oidcState : m.samlState;
      return html`<li data-integration="${key}" data-state="${state}">${label} <span class="${stateBadge[state]}">${stateLabel[state]}</span></li>`;
    })}</ul>
    <p class="actions"><a class="btn btn-primary" href="${adminPaths.enterpriseAuthentication}">Open Enterprise Authentication</a> <a class="btn btn-secondary" href="${adminPaths.domains}">Domains</a></p>
  </section>
  <section class="card tile" data-testid="admin-people">
    <h2 class="section-title">People</h2>
    <p>Invite admins and members, change roles, remove people who left.</p>
    <p class="actions"><a class="btn btn-secondary" href="${adminPaths.people}">Open People</a></p>
  </section>
  <section class="card tile" data-testid="admin-api-keys">
    <h2 class="section-title">API keys</h2>
    <p>Keys for your scripts and services to use the Gatehouse API: create, see when each was last used, revoke.</p>
    <p class="actions"><a class="btn btn-secondary" href="${adminPaths.apiKeys}">Open API keys</a></p>
  </section>
</div>
<section class="card" data-testid="admin-organization">
  <h2 class="section-title">Organization</h2>
  <dl class="facts">
    <div><dt>Name</dt><dd data-field="organization-name">${session.organizationName}</dd></div>
    <div><dt>Slug</dt><dd data-field="organization-slug"><code>${session.organizationSlug}</code></dd></div>
    <div><dt>Users</dt><dd data-field="user-count">${m.userCount}</dd></div>
  </dl>
  ${
    m.signInUrl
      ? copyField({
          id: "sign-in-url",
          label: "Sign-in link",
          value: m.signInUrl,
          help: "Share it with your people: it starts single sign-on through your organization's connection, whatever their email.",
        })
      : html`<p class="muted" data-testid="sign-in-link-hint">A sign-in link to share with your people appears here once a connection is enabled for a verified domain.</p>`
  }
</section>`,
  });
}
