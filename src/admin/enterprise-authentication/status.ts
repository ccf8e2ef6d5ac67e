import type { ConnectionView } from "../../connections/view.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { type AdminProtocol, connectionPaths } from "./paths.js";
import { type PeopleLeft, peopleLeftText } from "./people-left.js";

type Switchable = Pick<ConnectionView, "id" | "name" | "domains" | "status"> & { type?: AdminProtocol };

/** `":id"` gives the route pattern; the path is under the connection's protocol. */
const connectionPath = (id: string, action: string, protocol: AdminProtocol = "oidc") =>
  `${adminPaths[protocol]}/${id === ":id" ? id : encodeURIComponent(id)}/${action}`;

export const statusPaths = {
  disable: (id: string, protocol?: AdminProtocol) => connectionPath(id, "disable", protocol),
  enable: (id: string, protocol?: AdminProtocol) => connectionPath(id, "enable", protocol),
  signOutEveryone: (id: string, protocol?: AdminProtocol) =>
    connectionPath(id, "sign-out-everyone", protocol),
};

/** A connection's switch: Disable (after a confirmation) or Enable, and ending its sessions. */
export function statusActions(c: Switchable, csrfToken: string): SafeHtml {
  if (c.status === "disabled") {
    return html`<div class="stack" data-testid="connection-status-actions">
  <h3>Disabled</h3>
  <p>Enable it to send people at ${c.domains.join(", ")} through ${c.name} again; their password and LinkedIn sessions will end.</p>
  <form method="post" action="${statusPaths.enable(c.id, c.type)}" class="actions">
    <input type="hidden" name="_csrf" value="${csrfToken}">
    <button type="submit" class="btn btn-primary" data-testid="enable-connection">Enable connection</button>
  </form>
</div>`;
  }
  return html`<div class="stack" data-testid="connection-status-actions">
  <h3>Pause or sign people out</h3>
  <p class="actions">
    <a class="btn btn-secondary" href="${statusPaths.disable(c.id, c.type)}" data-testid="disable-connection">Disable connection</a>
    <a class="btn btn-secondary" href="${statusPaths.signOutEveryone(c.id, c.type)}" data-testid="sign-out-everyone">Sign out everyone who signed in through this connection</a>
  </p>
</div>`;
}

interface ConfirmModel {
  session: AdminSession;
  csrfToken: string;
  connection: Switchable;
  /** Live sessions the connection issued. */
  sessions: number;
  /** Who a disabled connection leaves behind. */
  people: PeopleLeft;
}

function confirmPage(m: ConfirmModel, title: string, form: SafeHtml): string {
  return adminPage({
    title: `${title}: ${m.connection.name}`,
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [
      crumbs.administration,
      crumbs.enterpriseAuthentication,
      crumbs[m.connection.type ?? "oidc"],
      { label: title },
    ],
    body: html`<section class="page-head"><h1>${title}</h1></section>
<section class="card" data-testid="status-confirm">${form}</section>`,
  });
}

export function disableConfirmPage(m: ConfirmModel): string {
  const c = m.connection;
  return confirmPage(
    m,
    "Disable connection",
    html`<form method="post" action="${statusPaths.disable(c.id, c.type)}" class="stack">
  <input type="hidden" name="_csrf" value="${m.csrfToken}">
  <p data-testid="disable-consequence">Disable ${c.name}? It keeps its settings, but signs no one in until you enable it again. ${peopleLeftText(m.people, c.domains, "until you enable it again")}</p>
  <label class="checkbox"><input type="checkbox" name="end_sessions" value="1" checked data-testid="end-sessions"> Also end the ${m.sessions} ${m.sessions === 1 ? "session" : "sessions"} this connection opened that are still active</label>
  <div class="actions">
    <a class="btn btn-secondary" href="${connectionPaths.page(c.id, c.type)}">Cancel</a>
    <button type="submit" class="btn btn-danger" data-testid="confirm-disable">Disable</button>
  </div>
</form>`,
  );
}

export function signOutEveryonePage(m: ConfirmModel): string {
  const c = m.connection;
  return confirmPage(
    m,
    "Sign out everyone",
    html`<form method="post" action="${statusPaths.signOutEveryone(c.id, c.type)}" class="stack">
  <input type="hidden" name="_csrf" value="${m.csrfToken}">
  <p>End the ${m.sessions} ${m.sessions === 1 ? "session" : "sessions"} opened through ${c.name}? Those people sign in again through the connection on their next visit.</p>
  <div class="actions">
    <a class="btn btn-secondary" href="${connectionPaths.page(c.id, c.type)}">Cancel</a>
    <button type="submit" class="btn btn-danger" data-testid="confirm-sign-out-everyone">Sign out everyone</button>
  </div>
</form>`,
  );
}
