import { type DomainView, listDomainViews } from "../../domains/view.js";
import type { AppContext } from "../../server/context.js";
import { listAuditEvents } from "../../store/audit.js";
import type { Connection } from "../../store/connections.js";
import { textField } from "../../web/form.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPaths, successAlert } from "../components.js";
import { recordFields, verifyButton } from "./domain-record.js";
import { advancedFields, fields } from "./oidc-setup.js";
import { type PeopleLeft, peopleLeftText, untilRecreated } from "./people-left.js";
import { allSamlFields } from "./saml-setup.js";

/** What the Open ID Connect page confirms after a redirect from a create or a delete. */
export interface OidcNotices {
  created?: {
    name: string;
    /** Its domains that work now, as people read them. */
    activeDomains: string[];
    /** Its domains that start working once verified, with the record to publish. */
    pendingDomains: DomainView[];
    signedOut: number;
    credentialsNote?: string;
  };
  deleted?: { name: string; domains: string[]; people?: PeopleLeft | undefined };
  status?: {
    name: string;
    change: StatusNotice;
    sessionsEnded: number;
    domains: readonly string[];
    people?: PeopleLeft | undefined;
  };
  updated?: { name: string; changed: string[]; credentialsNote?: string; signedOut: number };
}

export type StatusNotice = "disabled" | "enabled" | "signed-out";
const STATUS_NOTICES: readonly string[] = ["disabled", "enabled", "signed-out"];

export function statusLocation(
  path: string,
  change: StatusNotice,
  connectionId: string,
  sessionsEnded: number,
) {
  return `${path}?status=${change}&connection=${encodeURIComponent(connectionId)}&ended=${sessionsEnded}`;
}

export function createdLocation(path: string, revokedSessions: number, unchecked = false): string {
  return `${path}?created=1${revokedSessions > 0 ? `&signed_out=${revokedSessions}` : ""}${unchecked ? "&unchecked=1" : ""}`;
}

/** After an edit; `changed` false when the form held the stored settings already. */
export function updatedLocation(path: string, changed: boolean): string {
  return `${path}?${changed ? "updated" : "unchanged"}=1`;
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
    const domains = (await listDomainViews(ctx, organizationId)).filter((d) =>
      newest.domains.includes(d.domain),
    );
    notices.created = {
      name: newest.name,
      activeDomains: domains.filter((d) => d.active).map((d) => d.displayName),
      pendingDomains: domains.filter((d) => !d.active),
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
  const change = textField(query, "status", 20);
  const named = connections.find((c) => c.id === textField(query, "connection", 64));
  if (STATUS_NOTICES.includes(change) && named) {
    const ended = textField(query, "ended", 10);
    notices.status = {
      name: named.name,
      change: change as StatusNotice,
      sessionsEnded: /^\d{1,6}$/.test(ended) ? Number(ended) : 0,
      domains: named.domains,
    };
    if (change === "disabled") {
      const [event] = await listAuditEvents(ctx.store.db, {
        organizationId,
        connectionId: named.id,
        type: "connection.disabled",
        limit: 1,
      });
      notices.status.people = peopleLeftOf(event?.detail);
    }
  }
  if (textField(query, "updated", 10) === "1" && newest) {
    const [event] = await listAuditEvents(ctx.store.db, {
      organizationId,
      connectionId: newest.id,
      type: "connection.updated",
      limit: 1,
    });
    const changed = event?.detail?.changed;
    if (Array.isArray(changed)) {
      const note = event?.detail?.credentialsNote;
      const signedOut = event?.detail?.revokedSessions;
      notices.updated = {
        name: newest.name,
        changed: changed.filter((f): f is string => typeof f === "string"),
        signedOut: typeof signedOut === "number" ? signedOut : 0,
        ...(typeof note === "string" ? { credentialsNote: note } : {}),
      };
    }
  }
  if (textField(query, "unchanged", 10) === "1" && newest) {
    notices.updated = { name: newest.name, changed: [], signedOut: 0 };
  }
  if (textField(query, "deleted", 10) === "1") {
    const [event] = await listAuditEvents(ctx.store.db, {
      organizationId,
      type: "connection.deleted",
      limit: 1,
    });
    const name = event?.detail?.name;
    const domains = event?.detail?.domains;
    if (typeof name === "string")
      notices.deleted = {
        name,
        domains: Array.isArray(domains) ? domains.filter((d): d is string => typeof d === "string") : [],
        people: peopleLeftOf(event?.detail),
      };
  }
  return notices;
}

/** The counts Disable and Delete record (events from before they did have none). */
function peopleLeftOf(detail: Record<string, unknown> | null | undefined): PeopleLeft | undefined {
  const withOther = detail?.peopleWithPasswordOrLinkedIn;
  const withNeither = detail?.peopleWithNeither;
  if (typeof withOther !== "number" || typeof withNeither !== "number") return undefined;
  return {
    total: withOther + withNeither,
    withPasswordOrLinkedIn: withOther,
    withNeither,
    youHaveNeither: false,
  };
}

function statusText(n: NonNullable<OidcNotices["status"]>): SafeHtml {
  const sessions = `${n.sessionsEnded} ${n.sessionsEnded === 1 ? "session" : "sessions"}`;
  if (n.change === "disabled")
    return html`<p><strong>${n.name} is disabled.</strong> It signs no one in; ${sessions} it had opened ended.</p>`;
  if (n.change === "enabled")
    return html`<p><strong>${n.name} is enabled again.</strong> People at its domains sign in through it; ${sessions} by password or LinkedIn ended.</p>`;
  return html`<p><strong>Everyone who signed in through ${n.name} is signed out</strong> (${sessions} ended).</p>`;
}

/** The changed fields as the form labels them. */
const fieldLabels: Record<string, string> = Object.fromEntries(
  [...allSamlFields, ...fields, ...advancedFields].map((f) => [f.name, f.label]),
);

function updatedText(n: NonNullable<OidcNotices["updated"]>): SafeHtml {
  if (n.changed.length === 0)
    return html`<p><strong>Nothing changed.</strong> ${n.name} already had these settings.</p>`;
  return html`<p><strong>${n.name} is saved.</strong> Changed: <span data-testid="changed-fields">${n.changed.map((f) => fieldLabels[f] ?? f).join(", ")}</span>.${
    n.signedOut > 0
      ? html` ${n.signedOut} password or LinkedIn ${n.signedOut === 1 ? "session" : "sessions"} at the added domains ended.`
      : ""
  }</p>${n.credentialsNote ? html`<p data-testid="credentials-note">${n.credentialsNote}</p>` : ""}`;
}

function listed(names: readonly string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

function createdText(created: NonNullable<OidcNotices["created"]>): SafeHtml {
  const pending = listed(created.pendingDomains.map((d) => d.displayName));
  return html`<p><strong>The connection ${created.name} has been created and enabled.</strong></p>
  ${
    created.activeDomains.length > 0
      ? html`<p>People at ${listed(created.activeDomains)} now sign in through single sign-on.${
          created.signedOut > 0
            ? html` ${created.signedOut} ${created.signedOut === 1 ? "session was" : "sessions were"} signed out; those people sign in again through SSO.`
            : ""
        }</p>`
      : ""
  }${
    created.pendingDomains.length > 0
      ? html`<p data-testid="created-pending">${pending} ${created.pendingDomains.length === 1 ? "starts" : "start"} working once verified. Until then, people at ${pending} sign in as before${created.activeDomains.length === 0 ? `, and ${created.name} signs no one in` : ""}.</p>`
      : ""
  }${created.credentialsNote ? html`<p data-testid="credentials-note">${created.credentialsNote}</p>` : ""}`;
}

/** After Create: for each pending domain, the record to publish and its Verify button. */
function pendingDomainsCard(domains: readonly DomainView[], csrfToken: string): SafeHtml {
  return html`<section class="card" data-testid="pending-domains">
  <h2 class="section-title">Verify ${listed(domains.map((d) => d.displayName))}</h2>
  <p>Publish ${domains.length === 1 ? "this TXT record" : "these TXT records"} at your DNS provider to prove your organization owns ${domains.length === 1 ? "the domain" : "the domains"}, then click Verify. You can also do it later on the <a href="${adminPaths.domains}">Domains</a> page.</p>
  <div class="stack">${domains.map(
    (d) => html`<div class="stack separated" data-testid="pending-domain" data-domain="${d.domain}">
    <h3>${d.displayName}</h3>
    ${recordFields(d, "created-record")}
    <div class="actions">${verifyButton(d, csrfToken)}</div>
  </div>`,
  )}</div>
</section>`;
}

export function renderOidcNotices(notices: OidcNotices, csrfToken: string): SafeHtml {
  const { created, deleted, status, updated } = notices;
  return html`${updated ? successAlert("connection-updated", updatedText(updated)) : ""}${status ? successAlert("connection-status-changed", statusText(status)) : ""}${
    status?.change === "disabled" && status.people
      ? peopleLeftNote(status.people, status.domains, "until you enable it again")
      : ""
  }${
    created ? successAlert("connection-created", createdText(created)) : ""
  }${created && created.pendingDomains.length > 0 ? pendingDomainsCard(created.pendingDomains, csrfToken) : ""}${
    deleted
      ? successAlert(
          "connection-deleted",
          html`<p><strong>The connection ${deleted.name} was deleted.</strong></p>`,
        )
      : ""
  }${deleted?.people ? peopleLeftNote(deleted.people, deleted.domains, untilRecreated(deleted.domains)) : ""}`;
}

/**
 * Who the change leaves without a way in, beside the banner that confirms it: news the admin
 * must act on does not belong in a green box.
 */
function peopleLeftNote(people: PeopleLeft, domains: readonly string[], until: string): SafeHtml {
  return html`<div class="${people.withNeither > 0 ? "alert alert-error" : "notice"}" role="note" data-testid="people-left"><p>${peopleLeftText(people, domains, until)}</p></div>`;
}
