import type { DomainView } from "../../domains/view.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";

type Removable = Pick<DomainView, "id" | "domain" | "displayName" | "active">;
type Listing = readonly { name: string; enabled: boolean }[];

/** What removing `d` does, in one paragraph: who stops being sent where, and what it frees. */
export function removeConsequence(d: Removable, connections: Listing): string {
  const names = connections.map((c) => c.name).join(", ");
  const taken = connections.length > 0 ? ` It is taken off ${names}.` : "";
  if (!d.active) {
    return `Remove ${d.displayName}? It is not verified, so nothing changes for people at ${d.displayName}.${taken}`;
  }
  const routed = connections.some((c) => c.enabled)
    ? ` People at ${d.displayName} are no longer sent to ${names}: those with a password or LinkedIn sign in with it again, and those whose account single sign-on created have neither and will not be able to sign in.`
    : "";
  return `Remove ${d.displayName}?${routed}${taken} It is no longer verified as yours, and another organization may then verify it.`;
}

/**
 * The one form that removes a domain. In the dialog, Cancel closes it (`formmethod="dialog"`); on
 * the confirmation page, Cancel leads back to the domains.
 */
function removeForm(
  d: Removable,
  connections: Listing,
  csrfToken: string,
  where: "dialog" | "page",
): SafeHtml {
  return html`<form method="post" action="${adminPaths.removeDomain(d.id)}" class="stack">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <p data-testid="remove-consequence">${removeConsequence(d, connections)}</p>
  <p class="muted">To use it again, add it and publish a new TXT record: its verification token changes.</p>
  <div class="actions">
    ${
      where === "dialog"
        ? html`<button type="submit" value="cancel" formmethod="dialog" formnovalidate class="btn btn-secondary">Cancel</button>`
        : html`<a class="btn btn-secondary" href="${adminPaths.domains}">Cancel</a>`
    }
    <button type="submit" class="btn btn-danger" data-testid="confirm-remove-domain">Remove</button>
  </div>
</form>`;
}

/** The Remove link opens the dialog, or the confirmation page without JavaScript. */
export function removeDialog(d: Removable, connections: Listing, csrfToken: string): SafeHtml {
  const dialogId = `remove-dialog-${d.id}`;
  return html`<a class="btn btn-ghost" href="${adminPaths.removeDomain(d.id)}" data-dialog="#${dialogId}" data-testid="remove-domain">Remove…</a>
<dialog class="dialog" id="${dialogId}" aria-labelledby="${dialogId}-title">
  <h2 id="${dialogId}-title">Remove ${d.displayName}</h2>
  ${removeForm(d, connections, csrfToken, "dialog")}
</dialog>`;
}

export interface RemoveDomainPageModel {
  session: AdminSession;
  csrfToken: string;
  domain: Removable;
  connections: Listing;
}

export function removeDomainPage(m: RemoveDomainPageModel): string {
  return adminPage({
    title: `Remove ${m.domain.displayName}`,
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [
      crumbs.administration,
      crumbs.enterpriseAuthentication,
      crumbs.domains,
      { label: "Remove domain" },
    ],
    body: html`<section class="page-head">
  <h1>Remove ${m.domain.displayName}</h1>
</section>
<section class="card danger-zone" data-testid="remove-domain-confirm">
  ${removeForm(m.domain, m.connections, m.csrfToken, "page")}
</section>`,
  });
}
