import type { VerifyResult } from "../../domains/verify.js";
import type { DomainView } from "../../domains/view.js";
import type { ErrorCode } from "../../errors.js";
import { html, type SafeHtml } from "../../web/html.js";
import { utcTime } from "../../web/time.js";
import { adminPage, adminPaths, crumbs, successAlert } from "../components.js";
import type { AdminSession } from "../guard.js";
import { recordFields, verifyButton, verifyOutcome } from "./domain-record.js";
import { removeDialog } from "./domain-remove.js";

export interface DomainsPageModel {
  session: AdminSession;
  csrfToken: string;
  domains: DomainView[];
  /** Names of the connections listing each domain (by its stored, punycode form). */
  usedBy: ReadonlyMap<string, { name: string; enabled: boolean }[]>;
  added?: DomainView | undefined;
  /** The domain just removed, as people read it. */
  removed?: string | undefined;
  /** The answer to a Verify click. */
  verified?: { domain: DomainView; result: VerifyResult } | undefined;
  /** A refused Add: the reason, and what was typed. */
  addRefusal?: { code: ErrorCode; message: string; value: string } | undefined;
}

const stateLabel: Record<DomainView["state"], string> = {
  pending: "Pending verification",
  verified: "Verified",
  failing: "Record missing",
};
const stateBadge: Record<DomainView["state"], string> = {
  pending: "badge badge-neutral",
  verified: "badge badge-success",
  failing: "badge badge-warning",
};

const checkWords: Record<NonNullable<DomainView["lastCheckOutcome"]>, string> = {
  verified: "record found",
  no_record: "no record",
  mismatch: "records found, none matches",
  dns_error: "DNS lookup failed",
};

function stateText(d: DomainView): SafeHtml {
  if (d.state === "pending") {
    return html`Not verified yet: it does not route, require single sign-on or create accounts.`;
  }
  const when = d.verifiedAt ? html` on ${utcTime(d.verifiedAt)}` : "";
  if (d.verifiedBy === "operator")
    return html`Verified by the Gatehouse operator${when}; not checked by DNS.`;
  return html`Verified by its DNS record${when}.`;
}

function lastCheck(d: DomainView): SafeHtml {
  if (!d.lastCheckedAt || !d.lastCheckOutcome) return html`<span class="muted">never</span>`;
  return html`${utcTime(d.lastCheckedAt)}: ${checkWords[d.lastCheckOutcome]}`;
}

/** A verified domain whose record went missing: how long it keeps working, and what to do. */
function failingNotice(d: DomainView): SafeHtml {
  if (d.state !== "failing" || !d.graceEndsAt) return html``;
  if (d.active) {
    return html`<div class="alert alert-warning" role="note" data-testid="failing-notice">
  <p><strong>The record for ${d.displayName} is missing${d.failingSince ? html` since ${utcTime(d.failingSince)}` : ""}.</strong> The domain keeps working until ${utcTime(d.graceEndsAt)}.</p>
  <p>Publish the record below again and click Verify. If it is still missing then, people at ${d.displayName} are no longer sent to your identity provider.</p>
</div>`;
  }
  return html`<div class="alert alert-error" role="note" data-testid="failing-notice">
  <p><strong>${d.displayName} stopped working on ${utcTime(d.graceEndsAt)}:</strong> its record was missing for seven days. It no longer routes, requires single sign-on or creates accounts.</p>
  <p>Publish the record below again and click Verify to turn it back on.</p>
</div>`;
}

function usedByText(connections: readonly { name: string; enabled: boolean }[]): SafeHtml {
  if (connections.length === 0) return html`<span class="muted">No connection lists it yet</span>`;
  return html`${connections.map((c, i) => html`${i > 0 ? ", " : ""}${c.name}${c.enabled ? "" : html` <span class="muted">(disabled)</span>`}`)}`;
}

function domainCard(d: DomainView, m: DomainsPageModel): SafeHtml {
  const connections = m.usedBy.get(d.domain) ?? [];
  const proven = d.state === "verified";
  return html`<section class="card" id="domain-${d.id}" data-testid="domain" data-domain="${d.domain}" data-state="${d.state}" data-active="${d.active ? "true" : "false"}">
  <h2 class="section-title"><span data-field="domain-name">${d.displayName}</span> <span class="${stateBadge[d.state]}" data-testid="domain-state">${stateLabel[d.state]}</span></h2>
  ${failingNotice(d)}
  <dl class="facts">
    ${d.displayName === d.domain ? "" : html`<div><dt>In DNS</dt><dd><code>${d.domain}</code></dd></div>`}
    <div><dt>State</dt><dd data-field="state">${stateText(d)}</dd></div>
    <div><dt>Last check</dt><dd data-field="last-check">${lastCheck(d)}</dd></div>
    <div><dt>Connections</dt><dd data-field="connections">${usedByText(connections)}</dd></div>
  </dl>
  ${
    proven
      ? html`<details data-testid="domain-record-details">
    <summary>TXT record</summary>
    <div class="stack">
      <p class="field-help">${d.verifiedBy === "dns" ? "Keep it published: Gatehouse checks it again every day." : "Not needed while the operator vouches for the domain; publishing it does no harm."}</p>
      ${recordFields(d)}
    </div>
  </details>`
      : html`<p>To prove ${m.session.organizationName} owns ${d.displayName}, publish this TXT record at your DNS provider, then click Verify.</p>
  ${recordFields(d)}`
  }
  <div class="actions">
    ${d.verifiedBy === "operator" && proven ? "" : verifyButton(d, m.csrfToken, proven ? "Check now" : "Verify")}
    ${removeDialog(d, connections, m.csrfToken)}
  </div>
</section>`;
}

function addForm(m: DomainsPageModel): SafeHtml {
  const refusal = m.addRefusal;
  return html`<section class="card" data-testid="add-domain">
  <h2 class="section-title">Add a domain</h2>
  <form method="post" action="${adminPaths.domains}" class="stack" novalidate>
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    <div class="field${refusal ? " has-error" : ""}">
      <label for="field-domain">Domain</label>
      <input id="field-domain" name="domain" type="text" value="${refusal?.value ?? ""}" placeholder="acme.com" autocomplete="off" spellcheck="false" aria-describedby="domain-help${refusal ? " domain-error" : ""}"${refusal ? html` aria-invalid="true"` : ""}>
      <p class="field-help" id="domain-help">The part after the @ in your email addresses. Public email providers such as gmail.com, and public suffixes such as co.uk, cannot be added.</p>
      ${refusal ? html`<p class="field-error" id="domain-error" role="alert" data-testid="add-domain-error" data-error-code="${refusal.code}">${refusal.message}</p>` : ""}
    </div>
    <p class="actions"><button type="submit" class="btn btn-primary" data-testid="add-domain-submit">Add domain</button></p>
  </form>
</section>`;
}

function notices(m: DomainsPageModel): SafeHtml {
  const { added, removed, verified } = m;
  return html`${
    verified
      ? verifyOutcome(
          verified.domain,
          verified.result,
          (m.usedBy.get(verified.domain.domain) ?? []).filter((c) => c.enabled).map((c) => c.name),
        )
      : ""
  }${
    added
      ? successAlert(
          "domain-added",
          html`<p><strong>Added ${added.displayName}.</strong> Publish its TXT record at your DNS provider, then click Verify.</p>`,
        )
      : ""
  }${
    removed
      ? successAlert(
          "domain-removed",
          html`<p><strong>Removed ${removed}.</strong> It no longer routes, requires single sign-on or creates accounts for ${m.session.organizationName}.</p>`,
        )
      : ""
  }`;
}

/** Administration > Enterprise Authentication > Domains. */
export function domainsPage(m: DomainsPageModel): string {
  return adminPage({
    title: m.addRefusal ? "Domains: check the form" : "Domains",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, crumbs.enterpriseAuthentication, { label: crumbs.domains.label }],
    body: html`<section class="page-head">
  <h1>Domains</h1>
  <p class="lead">The email domains ${m.session.organizationName} has proven it owns. Only a verified domain sends its people to your identity provider, requires them to sign in through it, and creates their accounts.</p>
</section>
${notices(m)}
${
  m.domains.length === 0
    ? html`<section class="card" data-testid="no-domains"><p class="muted">No domains yet. Add the domain of your company's email addresses below.</p></section>`
    : m.domains.map((d) => domainCard(d, m))
}
${addForm(m)}`,
  });
}
