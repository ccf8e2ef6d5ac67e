import type { OpenedInvitation } from "../accounts/invitations.js";
import { MIN_PASSWORD_LENGTH } from "../crypto/password.js";
import { html } from "../web/html.js";
import { layout } from "../web/layout.js";
import { formatUtc } from "../web/time.js";

const roleLabel = { owner: "an owner", admin: "an administrator", member: "a member" } as const;

const expiry = (ms: number): string => formatUtc(ms);

export interface AcceptPageModel {
  opened: OpenedInvitation;
  token: string;
  csrfToken: string;
  name?: string | undefined;
  errors?: Record<string, string> | undefined;
}

/**
 * The page a setup link opens while it is valid: set a password, or — when the person's domain
 * signs in through SSO — continue to their identity provider, which binds the invitation to the
 * identity with the same email.
 */
export function acceptInvitationPage(m: AcceptPageModel): string {
  const { invitation, sso } = m.opened;
  const errors = m.errors ?? {};
  const field = (id: string) => (errors[id] ? html` aria-invalid="true" aria-describedby="${id}-error"` : "");
  const fieldError = (id: string) =>
    errors[id] ? html`<p class="field-error" id="${id}-error">${errors[id]}</p>` : "";
  const body = sso
    ? html`<p>${invitation.organizationName} signs you in through its own identity provider. Continue to sign in with your company account; your invitation is used when you come back.</p>
  <p class="actions"><a class="btn btn-primary btn-block" href="/sso/start?email=${encodeURIComponent(invitation.email)}" data-testid="invitation-sso">Continue with single sign-on</a></p>`
    : html`<form method="post" action="/invitation" class="stack" data-testid="invitation-form">
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    <input type="hidden" name="token" value="${m.token}">
    <input type="hidden" name="email" value="${invitation.email}" autocomplete="username">
    <div class="field${errors.name ? " has-error" : ""}">
      <label for="name">Your name <span class="muted">(optional)</span></label>
      <input id="name" name="name" type="text" maxlength="100" autocomplete="name" value="${m.name ?? ""}"${field("name")}>
      ${fieldError("name")}
    </div>
    <div class="field${errors.password ? " has-error" : ""}">
      <label for="password">Choose a password</label>
      <input id="password" name="password" type="password" autocomplete="new-password" required minlength="${MIN_PASSWORD_LENGTH}" autofocus${field("password")}>
      <p class="field-help">At least ${MIN_PASSWORD_LENGTH} characters.</p>
      ${fieldError("password")}
    </div>
    <button type="submit" class="btn btn-primary btn-block" data-testid="accept-invitation">Set password and sign in</button>
  </form>`;
  return layout({
    title: `Join ${invitation.organizationName}`,
    variant: "auth",
    body: html`<section class="card auth-card" data-testid="invitation" data-state="pending">
  <h1>Join ${invitation.organizationName}</h1>
  <p class="lead">You were invited as ${roleLabel[invitation.role]} of ${invitation.organizationName}.</p>
  <p class="identity-chip"><span>${invitation.email}</span></p>
  ${errors.form ? html`<p class="alert alert-error" role="alert" data-testid="invitation-error">${errors.form}</p>` : ""}
  ${body}
  <p class="muted">This link works once and expires at ${expiry(invitation.expiresAt)}.</p>
</section>`,
  });
}
