import type { ConnectionView } from "../../connections/view.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { type AdminProtocol, connectionPaths } from "./paths.js";

type Deletable = Pick<ConnectionView, "id" | "name" | "domains"> & { type?: AdminProtocol };

function consequence(c: Deletable): string {
  return `Delete ${c.name}? Users at ${c.domains.join(", ")} will sign in with their password or LinkedIn again.`;
}

/**
 * The one form that deletes a connection. In the dialog, Cancel closes it (`formmethod="dialog"`);
 * on the confirmation page, Cancel leads back to the connection.
 */
function deleteForm(c: Deletable, csrfToken: string, where: "dialog" | "page"): SafeHtml {
  return html`<form method="post" action="${adminPaths.deleteConnection(c.id, c.type)}" class="stack">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <p data-testid="delete-consequence">${consequence(c)}</p>
  <p class="muted">Their accounts stay. You can create a connection again at any time.</p>
  <div class="actions">
    ${
      where === "dialog"
        ? html`<button type="submit" value="cancel" formmethod="dialog" formnovalidate class="btn btn-secondary">Cancel</button>`
        : html`<a class="btn btn-secondary" href="${connectionPaths.page(c.id, c.type)}">Cancel</a>`
    }
    <button type="submit" class="btn btn-danger" data-testid="confirm-delete">Delete</button>
  </div>
</form>`;
}

/** The bottom of a connection's section: the link opens the dialog, or the confirmation page without JavaScript. */
export function dangerZone(c: Deletable, csrfToken: string): SafeHtml {
  const dialogId = `delete-dialog-${c.id}`;
  return html`<div class="danger-zone">
  <h3>Delete connection</h3>
  <p>People at ${c.domains.join(", ")} will no longer be able to sign in through ${c.name}; they will use their password or LinkedIn again.</p>
  <p class="actions"><a class="btn btn-danger" href="${adminPaths.deleteConnection(c.id, c.type)}" data-dialog="#${dialogId}" data-testid="delete-connection">Delete connection</a></p>
  <dialog class="dialog" id="${dialogId}" aria-labelledby="${dialogId}-title">
    <h2 id="${dialogId}-title">Delete connection</h2>
    ${deleteForm(c, csrfToken, "dialog")}
  </dialog>
</div>`;
}

export interface DeletePageModel {
  session: AdminSession;
  csrfToken: string;
  connection: Deletable;
}

export function deleteConfirmPage(m: DeletePageModel): string {
  return adminPage({
    title: `Delete ${m.connection.name}`,
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [
      crumbs.administration,
      crumbs.enterpriseAuthentication,
      crumbs[m.connection.type ?? "oidc"],
      { label: "Delete connection" },
    ],
    body: html`<section class="page-head">
  <h1>Delete connection</h1>
</section>
<section class="card danger-zone" data-testid="delete-confirm">
  ${deleteForm(m.connection, m.csrfToken, "page")}
</section>`,
  });
}
