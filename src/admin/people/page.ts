import type { PersonSignIn } from "../../accounts/sign-in-now.js";
import { ASSIGNABLE_ROLES, invitationState } from "../../domain/people.js";
import type { Invitation } from "../../store/invitations.js";
import type { Role, SignInMethod } from "../../store/schema.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, copyField, crumbs, successAlert } from "../components.js";
import type { AdminSession } from "../guard.js";

export interface PeoplePageModel {
  session: AdminSession;
  csrfToken: string;
  now: number;
  members: PersonSignIn[];
  invitations: Invitation[];
  /** A link just made: shown on this answer only, never again. */
  created?: { email: string; link: string; resent: boolean } | undefined;
  notice?: string | undefined;
  inviteError?: string | undefined;
  inviteEmail?: string | undefined;
}

const roleNames: Record<Role, string> = { owner: "Owner", admin: "Admin", member: "Member" };
const methodNames: Record<SignInMethod, string> = { password: "Password", sso: "SSO", linkedin: "LinkedIn" };

const time = (ms: number | null) =>
  ms === null
    ? html`<span class="muted">never</span>`
    : html`<time datetime="${new Date(ms).toISOString()}">${new Date(ms).toISOString().slice(0, 16).replace("T", " ")}</time>`;

function hidden(csrfToken: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrfToken}">`;
}

/**
 * The given and family names under the display name, only when they say something it does not:
 * "Alice · Example" under "Alice Example" is the same name twice.
 */
export function givenAndFamilyLine(names: {
  name: string | null;
  givenName?: string | null;
  familyName?: string | null;
}): string | undefined {
  const parts = [names.givenName, names.familyName].filter((part): part is string => Boolean(part));
  if (parts.length === 0 || names.name === parts.join(" ")) return undefined;
  return parts.join(" · ");
}

/**
 * How the person signs in now, not only what credentials they hold: under an enforcing
 * connection, single sign-on through it, and the credentials it refuses said to be refused.
 */
function signsInWith(m: PersonSignIn): SafeHtml {
  const { ssoRequiredBy, usable, refused, ssoUnavailable } = m.signInNow;
  const names = (methods: readonly SignInMethod[]) => methods.map((s) => methodNames[s]).join(", ");
  if (ssoRequiredBy)
    return html`<span data-field="sign-in-now">Single sign-on${ssoRequiredBy.own ? html` (${ssoRequiredBy.name})` : ""}</span>${
      refused.length > 0
        ? html`<br><span class="muted" data-field="refused-methods">${names(refused)}: refused while single sign-on is required</span>`
        : ""
    }`;
  if (usable.length > 0) return html`<span data-field="sign-in-now">${names(usable)}</span>`;
  // No password, no LinkedIn and no connection for the domain: a person single sign-on created
  // whose connection was disabled or deleted (deleting it removes their link to it, too).
  return html`<span class="badge badge-warning" data-field="sign-in-now">Cannot sign in</span><br><span class="muted">${
    ssoUnavailable
      ? "Created by single sign-on, which no enabled connection offers for this domain"
      : "No password or LinkedIn, and no connection for this domain"
  }</span>`;
}

function memberRow(m: PersonSignIn, session: AdminSession, csrfToken: string): SafeHtml {
  const self = m.id === session.userId;
  const changeable = !self && (m.role !== "owner" || session.role === "owner");
  const namesLine = givenAndFamilyLine(m);
  return html`<tr data-user-id="${m.id}" data-email="${m.email}" data-role="${m.role}">
  <td>${m.email}${self ? html` <span class="badge badge-neutral">you</span>` : ""}</td>
  <td>${m.name ?? ""}${namesLine ? html`<br><span class="muted" data-field="given-family">${namesLine}</span>` : ""}</td>
  <td>${
    changeable
      ? html`<form method="post" action="${adminPaths.memberRole(m.id)}" class="inline">
    ${hidden(csrfToken)}
    <label class="sr-only" for="role-${m.id}">Role of ${m.email}</label>
    <select id="role-${m.id}" name="role" data-testid="role-select">${[
      ...(m.role === "owner" ? (["owner"] as const) : []),
      ...ASSIGNABLE_ROLES,
    ].map(
      (r) => html`<option value="${r}"${r === m.role ? " selected" : ""}>${roleNames[r]}</option>`,
    )}</select>
    <button type="submit" class="btn btn-secondary" data-testid="change-role">Change</button>
  </form>`
      : roleNames[m.role]
  }</td>
  <td>${time(m.lastSignInAt)}</td>
  <td>${signsInWith(m)}</td>
  <td class="actions">
  <details class="confirm">
    <summary class="btn btn-ghost" data-testid="sign-out-member">Sign out everywhere…</summary>
    <form method="post" action="${adminPaths.signOutMember(m.id)}">
      ${hidden(csrfToken)}
      <p>End every session ${self ? "you have" : html`${m.email} has`} in ${session.organizationName}${self ? " except this one" : ""}? Applications signed in through them are signed out too.</p>
      <button type="submit" class="btn btn-danger" data-testid="confirm-sign-out-member">Sign out everywhere</button>
    </form>
  </details>
  ${
    changeable
      ? html`<details class="confirm">
    <summary class="btn btn-ghost" data-testid="remove-member">Remove…</summary>
    <form method="post" action="${adminPaths.removeMember(m.id)}">
      ${hidden(csrfToken)}
      <p>Remove ${m.email}? Their sessions end now and their account is deleted.</p>
      <button type="submit" class="btn btn-danger" data-testid="confirm-remove">Remove</button>
    </form>
  </details>`
      : ""
  }</td>
</tr>`;
}

function invitationRow(i: Invitation, now: number, csrfToken: string): SafeHtml {
  const state = invitationState(i, now);
  return html`<tr data-invitation-id="${i.id}" data-email="${i.email}" data-state="${state}">
  <td>${i.email}</td>
  <td>${roleNames[i.role]}</td>
  <td>${state === "expired" ? html`<span class="badge badge-warning">Expired</span>` : html`Expires ${time(i.expiresAt)}`}</td>
  <td class="actions">
    <form method="post" action="${adminPaths.resendInvitation(i.id)}" class="inline">${hidden(csrfToken)}<button type="submit" class="btn btn-secondary" data-testid="resend-invitation">Resend</button></form>
    <form method="post" action="${adminPaths.revokeInvitation(i.id)}" class="inline">${hidden(csrfToken)}<button type="submit" class="btn btn-ghost" data-testid="revoke-invitation">Revoke</button></form>
  </td>
</tr>`;
}

export function peoplePage(m: PeoplePageModel): string {
  return adminPage({
    title: "People",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, { label: "People" }],
    body: html`<section class="page-head">
  <h1>People</h1>
  <p class="lead">Who belongs to ${m.session.organizationName}, and how they sign in. Invite admins and members with a one-time setup link.</p>
</section>
${
  m.created
    ? html`<section class="card" data-testid="created-invitation">
  ${successAlert("invitation-created", html`${m.created.resent ? "Made a new link" : "Invited"} <strong>${m.created.email}</strong>. Copy the link and send it to them: it is shown only now, works once and expires in 72 hours.${m.created.resent ? " The previous link no longer works." : ""}`)}
  ${copyField({ id: "setup-link", label: "Setup link", value: m.created.link })}
</section>`
    : ""
}
${m.notice ? successAlert("people-notice", m.notice) : ""}
<section class="card" data-testid="members">
  <h2 class="section-title">Members</h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Last sign-in (UTC)</th><th scope="col">Signs in with</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${m.members.map((u) => memberRow(u, m.session, m.csrfToken))}</tbody>
  </table></div>
</section>
<section class="card" data-testid="sign-out-everyone">
  <h2 class="section-title">Sign out everyone</h2>
  <p>Ends every session opened in ${m.session.organizationName}, whatever the sign-in method, and signs those people out of the applications they reached through Gatehouse. Your own session stays.</p>
  <details class="confirm">
    <summary class="btn btn-secondary">Sign out everyone…</summary>
    <form method="post" action="${adminPaths.signOutEveryone}">
      ${hidden(m.csrfToken)}
      <p>Sign everyone in ${m.session.organizationName} out now? They sign in again on their next visit.</p>
      <button type="submit" class="btn btn-danger" data-testid="confirm-sign-out-everyone">Sign out everyone</button>
    </form>
  </details>
</section>
<section class="card" data-testid="invitations">
  <h2 class="section-title">Pending invitations</h2>
  ${
    m.invitations.length === 0
      ? html`<p class="muted">No pending invitations.</p>`
      : html`<div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Link</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${m.invitations.map((i) => invitationRow(i, m.now, m.csrfToken))}</tbody>
  </table></div>`
  }
</section>
<section class="card">
  <h2 class="section-title">Invite someone</h2>
  <form method="post" action="${adminPaths.invitations}" class="stack" data-testid="invite-form">
    ${hidden(m.csrfToken)}
    <div class="field${m.inviteError ? " has-error" : ""}">
      <label for="invite-email">Email</label>
      <input id="invite-email" name="email" type="email" required autocomplete="off" value="${m.inviteEmail ?? ""}"${m.inviteError ? html` aria-invalid="true" aria-describedby="invite-error"` : ""}>
      ${m.inviteError ? html`<p class="field-error" id="invite-error">${m.inviteError}</p>` : ""}
    </div>
    <div class="field">
      <label for="invite-role">Role</label>
      <select id="invite-role" name="role">
        <option value="member" selected>Member: signs in to your applications</option>
        <option value="admin">Admin: also manages Administration</option>
      </select>
    </div>
    <p class="actions"><button type="submit" class="btn btn-primary" data-testid="invite">Create setup link</button></p>
  </form>
</section>`,
  });
}
