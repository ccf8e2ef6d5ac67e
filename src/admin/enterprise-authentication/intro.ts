import { html } from "../../web/html.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { type IntegrationState, stateBadge, stateLabel } from "./state.js";

export interface IntroPageModel {
  session: AdminSession;
  csrfToken: string;
  oidcState: IntegrationState;
  samlState: IntegrationState;
  /** How many of the organization's domains are in each state. */
  domainCounts: Record<"verified" | "pending" | "failing", number>;
}

function domainSummary(counts: IntroPageModel["domainCounts"]): string {
  const parts = [
    counts.verified > 0 ? `${counts.verified} verified` : "",
    counts.pending > 0 ? `${counts.pending} pending verification` : "",
    counts.failing > 0 ? `${counts.failing} with a missing record` : "",
  ].filter(Boolean);
  return parts.length === 0 ? "No domains yet." : `${parts.join(", ")}.`;
}

/** Administration > Enterprise Authentication: the integrations an organization can turn on. */
export function introPage(m: IntroPageModel): string {
  return adminPage({
    title: "Enterprise Authentication",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, { label: crumbs.enterpriseAuthentication.label }],
    body: html`<section class="page-head">
  <h1>Enterprise Authentication</h1>
  <p class="lead">Connect your company's identity provider so your staff sign in with their company account.</p>
  <p class="muted">Once a connection is enabled, everyone with an email address at its verified domains must sign in through it; password and LinkedIn sign-in are refused for them.</p>
</section>
<div class="tile-grid">
  <section class="card tile" data-integration="oidc" data-state="${m.oidcState}">
    <h2 class="section-title">Open ID Connect <span class="${stateBadge[m.oidcState]}">${stateLabel[m.oidcState]}</span></h2>
    <p>Okta, Microsoft Entra ID, Google Workspace, Auth0, Keycloak, PingFederate and any other OpenID Connect provider.</p>
    <p class="actions"><a class="btn ${m.oidcState === "not-connected" ? "btn-primary" : "btn-secondary"}" href="${adminPaths.oidc}">${m.oidcState === "not-connected" ? "Connect" : "Manage"}</a></p>
  </section>
  <section class="card tile" data-integration="saml" data-state="${m.samlState}">
    <h2 class="section-title">SAML 2.0 <span class="${stateBadge[m.samlState]}">${stateLabel[m.samlState]}</span></h2>
    <p>AD FS, Shibboleth, and Okta, Microsoft Entra ID or Google Workspace SAML apps: for identity providers that speak SAML.</p>
    <p class="actions"><a class="btn ${m.samlState === "not-connected" ? "btn-primary" : "btn-secondary"}" href="${adminPaths.saml}" data-testid="saml-tile-link">${m.samlState === "not-connected" ? "Connect" : "Manage"}</a></p>
  </section>
  <section class="card tile" data-testid="domains-tile">
    <h2 class="section-title">Domains${m.domainCounts.failing > 0 ? html` <span class="badge badge-warning">Needs attention</span>` : ""}</h2>
    <p>Prove your company owns its email domains with a DNS record. Only verified domains send people to your identity provider.</p>
    <p class="muted" data-field="domain-summary">${domainSummary(m.domainCounts)}</p>
    <p class="actions"><a class="btn btn-secondary" href="${adminPaths.domains}">Manage domains</a></p>
  </section>
</div>`,
  });
}
