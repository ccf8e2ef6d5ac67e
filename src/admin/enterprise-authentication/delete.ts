import type { ConnectionView } from "../../connections/view.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { type AdminProtocol, connectionPaths } from "./paths.js";
import { type PeopleLeft, peopleLeftText, untilRecreated } from "./people-left.js";

type Deletable = Pick<ConnectionView, "id" | "name" | "domains"> & {
  type?: AdminProtocol;
  /** Who it leaves behind: said in numbers before the click, never promised. */
  people: PeopleLeft;
};

function consequence(c: Deletable): SafeHtml {
  return html`Delete ${c.name}? ${peopleLeftText(c.people, c.domains, untilRecreated(c.domains))}`;
}

/**
 * The one form that deletes a connection. In the dialog, Cancel closes it (`formmethod="dialog"`);
 * on the confirmation page, Cancel leads back to the connection.
 */
function deleteForm(c: Deletable, csrfToken: string, where: "dialog" | "page"): SafeHtml {
  return html`<form method="post" action="${adminPaths.deleteConnection(c.id, c.type)}" class="stack">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <p data-testid="delete-consequence">${consequence(c)}</p>
  <p class="muted">${c.people.total > 0 ? "Their accounts stay. " : ""}You can create a connection again at any time.</p>
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
  <p>People at ${c.domains.join(", ")} will no longer be able to sign in through ${c.name}: only those with a password or LinkedIn can sign in without it.</p>
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
