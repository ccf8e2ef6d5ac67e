import type { FastifyReply } from "fastify";
import { type HtmlValue, html, type SafeHtml } from "../web/html.js";
import { type Crumb, layout } from "../web/layout.js";
import type { AdminSession } from "./guard.js";

export const adminPaths = {
  overview: "/admin",
  apiKeys: "/admin/api-keys",
  revokeApiKey: (id: string) => `/admin/api-keys/${id === ":id" ? id : encodeURIComponent(id)}/revoke`,
  people: "/admin/people",
  invitations: "/admin/people/invitations",
  resendInvitation: (id: string) =>
    `/admin/people/invitations/${id === ":id" ? id : encodeURIComponent(id)}/resend`,
  revokeInvitation: (id: string) =>
    `/admin/people/invitations/${id === ":id" ? id : encodeURIComponent(id)}/revoke`,
  memberRole: (id: string) => `/admin/people/${id === ":id" ? id : encodeURIComponent(id)}/role`,
  removeMember: (id: string) => `/admin/people/${id === ":id" ? id : encodeURIComponent(id)}/remove`,
  signOutMember: (id: string) => `/admin/people/${id === ":id" ? id : encodeURIComponent(id)}/sign-out`,
  signOutEveryone: "/admin/people/sign-out-everyone",
  enterpriseAuthentication: "/admin/enterprise-authentication",
  oidc: "/admin/enterprise-authentication/oidc",
  saml: "/admin/enterprise-authentication/saml",
  /** Under the connection's protocol: `/oidc/{id}/delete` or `/saml/{id}/delete`. */
  deleteConnection: (id: string, protocol: "oidc" | "saml" = "oidc") =>
    `/admin/enterprise-authentication/${protocol}/${id === ":id" ? id : encodeURIComponent(id)}/delete`,
  domains: "/admin/enterprise-authentication/domains",
  verifyDomain: (id: string) =>
    `/admin/enterprise-authentication/domains/${id === ":id" ? id : encodeURIComponent(id)}/verify`,
  removeDomain: (id: string) =>
    `/admin/enterprise-authentication/domains/${id === ":id" ? id : encodeURIComponent(id)}/remove`,
} as const;

export const crumbs = {
  administration: { label: "Administration", href: adminPaths.overview },
  enterpriseAuthentication: { label: "Enterprise Authentication", href: adminPaths.enterpriseAuthentication },
  oidc: { label: "Open ID Connect", href: adminPaths.oidc },
  saml: { label: "SAML 2.0", href: adminPaths.saml },
  domains: { label: "Domains", href: adminPaths.domains },
} satisfies Record<string, Crumb>;

export interface AdminPageOptions {
  title: string;
  session: AdminSession;
  csrfToken: string;
  breadcrumbs: Crumb[];
  body: SafeHtml;
}

export function adminPage(options: AdminPageOptions): string {
  return layout({ ...options, variant: "app" });
}

export function sendHtml(reply: FastifyReply, page: string, status = 200): FastifyReply {
  return reply.status(status).type("text/html; charset=utf-8").send(page);
}

/** A read-only value with a Copy button (`public/app.js` copies the element named by `data-copy`). */
export function copyField(options: { id: string; label: string; value: string; help?: HtmlValue }): SafeHtml {
  const { id, label, value, help } = options;
  return html`<div class="field">
  <label for="${id}">${label}</label>
  <div class="copy-field">
    <input id="${id}" type="text" value="${value}" readonly spellcheck="false"${help ? html` aria-describedby="${id}-help"` : ""}>
    <button type="button" class="btn btn-secondary" data-copy="#${id}" aria-label="Copy ${label}">Copy</button>
  </div>
  ${help ? html`<p class="field-help" id="${id}-help">${help}</p>` : ""}
</div>`;
}

export function successAlert(testId: string, body: HtmlValue): SafeHtml {
  return html`<div class="alert alert-success" role="status" data-testid="${testId}">${body}</div>`;
}
