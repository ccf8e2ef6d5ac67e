import type { AppContext } from "../../server/context.js";
import { listAuditEvents } from "../../store/audit.js";
import type { Connection } from "../../store/connections.js";
import { textField } from "../../web/form.js";
import { html, type SafeHtml } from "../../web/html.js";
import { successAlert } from "../components.js";

/** What the Open ID Connect page confirms after a redirect from a create or a delete. */
export interface OidcNotices {
  created?: { name: string; domains: string[]; signedOut: number; credentialsNote?: string };
  deleted?: { name: string };
}

export function createdLocation(path: string, revokedSessions: number, unchecked = false): string {
  return `${path}?created=1${revokedSessions > 0 ? `&signed_out=${revokedSessions}` : ""}${unchecked ? "&unchecked=1" : ""}`;
}

export function deletedLocation(path: string): string {
  return `${path}?deleted=1`;
}

/**
 * The query only says that something happened; the names come from the database, so a crafted
 * link cannot put words into the confirmation.
 */
export async function readOidcNotices(
  ctx: AppContext,
  organizationId: string,
  query: unknown,
  connections: readonly Connection[],
): Promise<OidcNotices> {
  const notices: OidcNotices = {};
  const newest = connections.at(-1);
  if (textField(query, "created", 10) === "1" && newest) {
    const signedOut = textField(query, "signed_out", 10);
    notices.created = {
      name: newest.name,
      domains: newest.domains,
      signedOut: /^\d{1,6}$/.test(signedOut) ? Number(signedOut) : 0,
    };
    if (textField(query, "unchecked", 10) === "1") {
      const [event] = await listAuditEvents(ctx.store.db, {
        organizationId,
        connectionId: newest.id,
        type: "connection.created",
        limit: 1,
      });
      const note = event?.detail?.credentialsNote;
      if (typeof note === "string") notices.created.credentialsNote = note;
    }
  }
  if (textField(query, "deleted", 10) === "1") {
    const [event] = await listAuditEvents(ctx.store.db, {
      organizationId,
      type: "connection.deleted",
      limit: 1,
    });
    const name = event?.detail?.name;
    if (typeof name === "string") notices.deleted = { name };
  }
  return notices;
}

export function renderOidcNotices(notices: OidcNotices): SafeHtml {
  const { created, deleted } = notices;
  return html`${
    created
      ? successAlert(
          "connection-created",
          html`<p><strong>The connection ${created.name} has been created and enabled.</strong></p>
  <p>People at ${created.domains.join(", ")} now sign in through single sign-on.${
    created.signedOut > 0
      ? html` ${created.signedOut} ${created.signedOut === 1 ? "session was" : "sessions were"} signed out; those people sign in again through SSO.`
      : ""
  }</p>${created.credentialsNote ? html`<p data-testid="credentials-note">${created.credentialsNote}</p>` : ""}`,
        )
      : ""
  }${
    deleted
      ? successAlert(
          "connection-deleted",
          html`<p><strong>The connection ${deleted.name} was deleted.</strong> Its users sign in with their password or LinkedIn again.</p>`,
        )
      : ""
  }`;
}
