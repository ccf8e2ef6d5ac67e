import type { DomainView } from "../../domains/view.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPaths } from "../components.js";

interface Summarized {
  status: "enabled" | "disabled";
  domains: readonly string[];
}

/** A connection's domains split by whether they work now; pending ones wait for verification. */
export function domainsOf(c: Summarized, organizationDomains: readonly DomainView[]) {
  const views = c.domains.map(
    (d) => organizationDomains.find((o) => o.domain === d) ?? { domain: d, displayName: d, active: false },
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

/** One line under a connection's name: whom it signs in now, whatever its protocol. */
export function enforcementSummary(c: Summarized, organizationDomains: readonly DomainView[]): SafeHtml {
  const { active, pending } = domainsOf(c, organizationDomains);
  if (c.status !== "enabled") {
    return html`<p class="muted">This connection signs no one in. People at ${c.domains.join(", ")} can sign in only with a password or LinkedIn, if they have one.</p>`;
  }
  if (active.length === 0) {
    return html`<p class="muted">This connection signs no one in until one of its domains is verified.${pendingNote(pending)}</p>`;
  }
  return html`<p class="muted">People at ${active.join(", ")} sign in through this connection; password and LinkedIn sign-in are refused for them.${pendingNote(pending)}</p>`;
}

export function statusBadge(status: "enabled" | "disabled"): SafeHtml {
  const enabled = status === "enabled";
  return html`<span class="badge ${enabled ? "badge-success" : "badge-warning"}" data-status="${status}">${enabled ? "Enabled" : "Disabled"}</span>`;
}
