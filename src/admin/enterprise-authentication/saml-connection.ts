import type { CertificateFacts } from "../../connections/saml-certificates.js";
import type { DomainView } from "../../domains/view.js";
import type { AuditEvent } from "../../store/audit.js";
import { html, type SafeHtml } from "../../web/html.js";
import { utcTime } from "../../web/time.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { enforcementSummary, statusBadge } from "./connection-summary.js";
import { dangerZone } from "./delete.js";
import { connectionPaths } from "./paths.js";
import type { PeopleLeft } from "./people-left.js";
import { serviceProviderFields } from "./saml-setup.js";
import { signInActivity } from "./sign-in-activity.js";
import { statusActions } from "./status.js";

/** What the SAML pages show of a connection (src/connections/view.ts SamlConnectionView). */
export interface SamlPageConnection {
  id: string;
  type: "saml";
  name: string;
  status: "enabled" | "disabled";
  domains: string[];
  idpEntityId: string;
  ssoUrl: string;
  sloUrl: string | null;
  metadataUrl: string | null;
  allowIdpInitiated: boolean;
  emailAttribute: string | null;
  nameAttribute: string | null;
  groupsAttribute: string | null;
  roleRules: { group: string; role: "admin" | "member" }[];
  defaultRole: "admin" | "member";
  spEntityId: string;
  spMetadataUrl: string;
  acsUrl: string;
  createdAt: string;
}

export interface SamlConnectionPageModel {
  session: AdminSession;
  csrfToken: string;
  connection: SamlPageConnection;
  /** The IdP's signing certificates, read. */
  certificates: (CertificateFacts | undefined)[];
  /** Gatehouse's own certificate for this connection. */
  spCertificate: CertificateFacts | undefined;
  activity: AuditEvent[];
  notice?: SafeHtml | undefined;
  organizationDomains: readonly DomainView[];
  /** Who the connection would leave behind, for Delete's confirmation. */
  people: PeopleLeft;
}

function certificateItem(c: CertificateFacts | undefined): SafeHtml {
  if (!c) return html`<li><span class="badge badge-warning">Unreadable</span></li>`;
  const badge = c.expired
    ? html` <span class="badge badge-warning">Expired</span>`
    : c.expiresSoon
      ? html` <span class="badge badge-warning">Expires soon</span>`
      : "";
  return html`<li data-testid="idp-certificate"><span>SHA-256 <code>${c.fingerprint256}</code></span><br><span class="muted">Valid until <time datetime="${c.notAfter}">${c.notAfter.slice(0, 10)}</time></span>${badge}</li>`;
}

function attributesText(c: SamlPageConnection): SafeHtml {
  const set = [
    c.emailAttribute ? html`email <code>${c.emailAttribute}</code>` : "",
    c.nameAttribute ? html`name <code>${c.nameAttribute}</code>` : "",
    c.groupsAttribute ? html`groups <code>${c.groupsAttribute}</code>` : "",
  ].filter((part) => part !== "");
  if (set.length === 0)
    return html`<span class="muted">The usual names (email NameID, <code>email</code>, <code>mail</code>, <code>groups</code>, …)</span>`;
  return html`${set.map((part, i) => html`${i > 0 ? "; " : ""}${part}`)}`;
}

function rolesText(c: SamlPageConnection): SafeHtml {
  if (c.roleRules.length === 0) {
    return html`<span class="muted">No rules: new users are ${c.defaultRole === "admin" ? "admins" : "members"}; roles are managed under People</span>`;
  }
  return html`${c.roleRules.map((r, i) => html`${i > 0 ? "; " : ""}<code>${r.group}</code> → ${r.role}`)}; otherwise ${c.defaultRole}`;
}

function connectionSection(m: SamlConnectionPageModel): SafeHtml {
  const c = m.connection;
  return html`<section class="card" data-testid="saml-connection" data-connection-id="${c.id}">
  <div class="page-head">
    <h2 class="section-title">${c.name}</h2>
    ${statusBadge(c.status)}
  </div>
  ${enforcementSummary(c, m.organizationDomains)}
  <h3>Identity provider</h3>
  <dl class="facts">
    <div><dt>IdP entity ID</dt><dd data-field="idp-entity-id"><code>${c.idpEntityId}</code></dd></div>
    <div><dt>Single sign-on URL</dt><dd data-field="sso-url"><code>${c.ssoUrl}</code></dd></div>
    <div><dt>Single logout URL</dt><dd data-field="slo-url">${c.sloUrl ? html`<code>${c.sloUrl}</code>` : html`<span class="muted">None: signing out ends the Gatehouse session only</span>`}</dd></div>
    <div><dt>Signing certificate${m.certificates.length === 1 ? "" : "s"}</dt><dd data-field="certificates"><ul class="certificate-list">${m.certificates.map(certificateItem)}</ul></dd></div>
    <div><dt>Metadata</dt><dd data-field="metadata-url">${c.metadataUrl ? html`<code>${c.metadataUrl}</code>` : html`<span class="muted">Pasted or entered by hand</span>`}</dd></div>
    <div><dt>Email domain${c.domains.length === 1 ? "" : "s"}</dt><dd data-field="domains">${c.domains.join(", ")}</dd></div>
    <div><dt>IdP-initiated sign-in</dt><dd data-field="idp-initiated">${c.allowIdpInitiated ? "Allowed" : "Refused (sign-in starts at Gatehouse)"}</dd></div>
    <div><dt>Attributes</dt><dd data-field="attributes">${attributesText(c)}</dd></div>
    <div><dt>Roles from groups</dt><dd data-field="role-rules">${rolesText(c)}</dd></div>
    <div><dt>Created</dt><dd data-field="created">${utcTime(c.createdAt)}</dd></div>
  </dl>
  <h3>In your identity provider</h3>
  ${serviceProviderFields({ acsUrl: c.acsUrl, entityId: c.spEntityId, metadataUrl: c.spMetadataUrl }, `-${c.id}`, true)}
  ${
    m.spCertificate
      ? html`<p class="field-help" data-field="sp-certificate">Gatehouse's certificate for this connection (in the SP metadata, for signed requests and encrypted assertions): SHA-256 <code>${m.spCertificate.fingerprint256}</code>, valid until ${m.spCertificate.notAfter.slice(0, 10)}.</p>`
      : ""
  }
  <form method="post" action="${connectionPaths.test(c.id, "saml")}" class="actions">
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    <a class="btn btn-primary" href="${connectionPaths.edit(c.id, "saml")}" data-testid="edit-connection">Edit settings</a>
    <button type="submit" class="btn btn-secondary" data-testid="test-sign-in">Test sign-in</button>
    <span class="field-help">Test sign-in goes through your identity provider and back with these settings${c.status === "enabled" ? "" : ", even while disabled"}; nobody is signed in.</span>
  </form>
  ${statusActions(c, m.csrfToken)}
  ${dangerZone({ ...c, people: m.people }, m.csrfToken)}
</section>
${signInActivity(c.id, m.activity)}`;
}

/** One SAML connection: its IdP, what to copy, its actions, Delete at the bottom, its activity. */
export function samlConnectionPage(m: SamlConnectionPageModel): string {
  const c = m.connection;
  return adminPage({
    title: `SAML 2.0: ${c.name}`,
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, crumbs.enterpriseAuthentication, crumbs.saml, { label: c.name }],
    body: html`<section class="page-head">
  <h1>SAML 2.0</h1>
  <p class="lead">A single sign-on connection to a SAML identity provider. <a href="${adminPaths.saml}">All SAML connections</a></p>
</section>
${m.notice ?? ""}
${connectionSection(m)}`,
  });
}

export interface SamlListModel {
  session: AdminSession;
  csrfToken: string;
  connections: SamlPageConnection[];
  notice?: SafeHtml | undefined;
}

/** The organization's SAML connections, each opening its own page, and the way to add one. */
export function samlListPage(m: SamlListModel): string {
  return adminPage({
    title: "SAML 2.0",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, crumbs.enterpriseAuthentication, { label: crumbs.saml.label }],
    body: html`<section class="page-head">
  <h1>SAML 2.0</h1>
  <p class="lead">Your SAML single sign-on connections. A person signing in is sent to the connection that lists their email's domain.</p>
</section>
${m.notice ?? ""}
<section class="card" data-testid="connection-list">
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">Connection</th><th scope="col">Domains</th><th scope="col">IdP entity ID</th><th scope="col">Status</th></tr></thead>
    <tbody>${m.connections.map(
      (c) => html`<tr data-testid="connection-row" data-connection-id="${c.id}">
  <td><a href="${connectionPaths.page(c.id, "saml")}" data-testid="open-connection">${c.name}</a></td>
  <td data-field="domains">${c.domains.join(", ")}</td>
  <td><code>${c.idpEntityId}</code></td>
  <td>${statusBadge(c.status)}</td>
</tr>`,
    )}</tbody>
  </table></div>
</section>
<section class="card" data-testid="add-connection">
  <h2 class="section-title">Another identity provider</h2>
  <p class="muted">Each connection signs in the people of its own domains.</p>
  <p class="actions"><a class="btn btn-secondary" href="${connectionPaths.newOf("saml")}" data-testid="add-connection-link">Add a SAML connection</a></p>
</section>`,
  });
}
