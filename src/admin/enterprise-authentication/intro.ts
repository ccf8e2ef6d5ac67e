import { html } from "../../web/html.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { type IntegrationState, stateBadge, stateLabel } from "./state.js";

export interface IntroPageModel {
  session: AdminSession;
  csrfToken: string;
  oidcState: IntegrationState;
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
  <p class="muted">Once a connection is enabled, everyone with an email address at its domains must sign in through it; password and LinkedIn sign-in are refused for them.</p>
</section>
<div class="tile-grid">
  <section class="card tile" data-integration="oidc" data-state="${m.oidcState}">
    <h2 class="section-title">Open ID Connect <span class="${stateBadge[m.oidcState]}">${stateLabel[m.oidcState]}</span></h2>
    <p>Okta, Microsoft Entra ID, Google Workspace, Auth0, Keycloak, PingFederate and any other OpenID Connect provider.</p>
    <p class="actions"><a class="btn ${m.oidcState === "not-connected" ? "btn-primary" : "btn-secondary"}" href="${adminPaths.oidc}">${m.oidcState === "not-connected" ? "Connect" : "Manage"}</a></p>
  </section>
  <section class="card tile" data-integration="saml" data-state="coming-soon" aria-disabled="true">
    <h2 class="section-title">SAML 2.0 <span class="badge badge-neutral">Coming soon</span></h2>
    <p>For identity providers that speak SAML only.</p>
  </section>
</div>`,
  });
}
