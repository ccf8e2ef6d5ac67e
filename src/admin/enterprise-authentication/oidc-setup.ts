import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, copyField, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import {
  type ConnectionField,
  type ConnectionFormValues,
  emptyConnectionForm,
  type FormRefusal,
} from "./connection-form.js";
import {
  type FieldSpec as GenericFieldSpec,
  errorSummary as genericErrorSummary,
  formField as genericFormField,
  type SetupDomain,
} from "./form-fields.js";

export interface SetupPageModel {
  session: AdminSession;
  csrfToken: string;
  callbackUrl: string;
  homePageUrl: string;
  values: ConnectionFormValues;
  refusal?: FormRefusal | undefined;
  /** The refused form carried a secret, which is deliberately not shown again. */
  secretSubmitted?: boolean;
  /** Shown above the page, e.g. after a deletion. */
  notice?: SafeHtml | undefined;
  /** The organization's domains, verified and pending, offered by the domain field. */
  organizationDomains: readonly SetupDomain[];
}

export type { SetupDomain };

/** What a connection form's fields read: the Setup page's and the Edit page's. */
export type FormModel = Pick<
  SetupPageModel,
  "values" | "refusal" | "secretSubmitted" | "organizationDomains"
>;

export type FieldSpec = GenericFieldSpec<ConnectionField>;

export const fields: readonly FieldSpec[] = [
  {
    name: "name",
    label: "Connection name",
    type: "text",
    placeholder: "e.g. Acme Okta",
    help: html`A name you recognize, unique across Gatehouse. With several connections, people see it on your organization's sign-in page.`,
  },
  {
    name: "issuer",
    label: "Issuer URL",
    type: "url",
    placeholder: "e.g. https://acme.okta.com",
    help: html`For Okta, your Okta domain such as <code>https://acme.okta.com</code> (General Settings). Gatehouse reads <code>/.well-known/openid-configuration</code> under it.`,
  },
  {
    name: "clientId",
    label: "Client ID",
    type: "text",
    help: html`From the application's Client Credentials in your identity provider.`,
  },
  {
    name: "clientSecret",
    label: "Client secret",
    type: "password",
    help: html`From the same Client Credentials. It is stored encrypted and never shown again. Not needed with <code>private_key_jwt</code> (Advanced settings).`,
  },
  {
    name: "domains",
    label: "Identity provider domain",
    type: "text",
    placeholder: "e.g. acme.com",
    help: html`Your company's email domain, the part after the @, such as <code>acme.com</code>. Separate several with commas or spaces. A domain your organization has not verified yet is added as pending: it starts working once you publish its DNS record and verify it.`,
  },
];

export const advancedFields: readonly FieldSpec[] = [
  {
    name: "tokenEndpointAuthMethod",
    label: "Token endpoint authentication",
    type: "select",
    options: [
      { value: "auto", label: "Automatic: client secret, as the provider prefers" },
      { value: "client_secret_basic", label: "Client secret, HTTP Basic (client_secret_basic)" },
      { value: "client_secret_post", label: "Client secret in the request body (client_secret_post)" },
      { value: "private_key_jwt", label: "Signed JWT, no client secret (private_key_jwt)" },
    ],
    help: html`How Gatehouse proves itself to the provider's token endpoint. With <code>private_key_jwt</code>, register the JWKS URL shown after creation in your identity provider.`,
  },
  {
    name: "extraScopes",
    label: "Extra scopes",
    type: "text",
    placeholder: "groups",
    help: html`Requested in addition to <code>openid email profile</code>. Separate several with spaces.`,
  },
  {
    name: "emailClaim",
    label: "Email claim",
    type: "text",
    placeholder: "email",
    help: html`The claim that holds the user's email address: <code>email</code> for most providers, sometimes <code>preferred_username</code> or <code>upn</code> with Microsoft Entra ID.`,
  },
  {
    name: "allowedTenants",
    label: "Allowed tenants (Microsoft Entra ID)",
    type: "text",
    placeholder: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    help: html`Required with a multi-tenant issuer (<code>/common</code>, <code>/organizations</code>): the Directory (tenant) IDs whose accounts may sign in. Separate several with spaces. Leave empty with your tenant's own issuer.`,
  },
  {
    name: "clockSkewSeconds",
    label: "Clock tolerance (seconds)",
    type: "text",
    placeholder: "60",
    inputMode: "numeric",
    help: html`How far the provider's clock may differ when ID token times are checked, from 0 to 300. Leave empty for 60.`,
  },
  {
    name: "groupsClaim",
    label: "Groups claim",
    type: "text",
    placeholder: "groups",
    help: html`The claim that lists the person's groups, for the role rules below. Leave empty for <code>groups</code> (Okta, Microsoft Entra ID, Keycloak). Your provider may send it only with an extra scope such as <code>groups</code>.`,
  },
  {
    name: "roleRules",
    label: "Roles from groups",
    type: "textarea",
    placeholder: "e.g. Gatehouse Admins = admin",
    help: html`One rule a line, <code>group = admin</code> or <code>group = member</code>. With rules, the role follows your provider at every sign-in: admin when a group maps to admin, else member when one maps to member, else the role for new users. Never owner, and an owner's role is never changed. Without rules, roles are managed under People.`,
  },
  {
    name: "defaultRole",
    label: "Role for new users",
    type: "select",
    options: [
      { value: "member", label: "Member" },
      { value: "admin", label: "Admin" },
    ],
    help: html`The role of a person signing in for the first time whom no rule matches.`,
  },
];

export function formField(spec: FieldSpec, m: FormModel): SafeHtml {
  const error = m.refusal?.fields[spec.name];
  // The secret is never shown again; after a refusal the form says why it is empty.
  const askAgain = spec.name === "clientSecret" && m.secretSubmitted && !error;
  return genericFormField(
    spec,
    m,
    askAgain
      ? {
          id: "clientSecret-again",
          text: html`<strong>Enter the client secret again.</strong> For your security it is not kept when the form is sent back.`,
        }
      : undefined,
  );
}

/** Closed unless the admin used it or it holds an error, so the seed's five fields stay the whole story. */
export function advancedOpen(m: FormModel): boolean {
  return advancedFields.some(({ name }) =>
    name === "clientSecret"
      ? false
      : Boolean(m.refusal?.fields[name]) || m.values[name].trim() !== emptyConnectionForm[name],
  );
}

export function errorSummary(refusal: FormRefusal): SafeHtml {
  return genericErrorSummary(refusal, [...fields, ...advancedFields]);
}

/** The Setup page: what to copy into the identity provider, then the form that creates the connection. */
export function setupPage(m: SetupPageModel): string {
  return adminPage({
    title: m.refusal ? "Open ID Connect: check the form" : "Open ID Connect",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, crumbs.enterpriseAuthentication, { label: crumbs.oidc.label }],
    body: html`<section class="page-head">
  <h1>Open ID Connect</h1>
  <p class="lead">Let people at ${m.session.organizationName} sign in with your identity provider. The steps use Okta as the example; other providers have the same settings under similar names.</p>
</section>
${m.notice ?? ""}
${m.refusal ? errorSummary(m.refusal) : ""}
<section class="card" data-testid="oidc-idp-values">
  <h2 class="section-title">1. In your identity provider</h2>
  <ol class="checklist">
    <li>Create an app integration: sign-in method <strong>OIDC</strong>, application type <strong>Web Application</strong>.</li>
    <li>Grant type: <strong>Authorization Code</strong>.</li>
    <li>Sign-in redirect URI: the <strong>Callback URL</strong> below.</li>
    <li>Sign-out redirect URI: the <strong>home page</strong> below.</li>
    <li>Assign the people or groups who may sign in, and save. Note the <strong>Client ID</strong>, the <strong>Client secret</strong> and your Okta domain, which is the <strong>Issuer URL</strong>.</li>
  </ol>
  ${copyField({ id: "callback-url", label: "Callback URL", value: m.callbackUrl, help: "Paste it into Sign-in redirect URIs." })}
  ${copyField({ id: "home-url", label: "Sign-out redirect URL (home page)", value: m.homePageUrl, help: "Paste it into Sign-out redirect URIs." })}
</section>
<section class="card" data-testid="oidc-setup">
  <h2 class="section-title">2. In Gatehouse</h2>
  <form method="post" action="${adminPaths.oidc}" class="stack" novalidate>
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    ${fields.map((f) => formField(f, m))}
    <details class="advanced" data-testid="advanced-settings"${advancedOpen(m) ? " open" : ""}>
      <summary>Advanced settings</summary>
      <div class="stack">
        ${advancedFields.map((f) => formField(f, m))}
      </div>
    </details>
    <div class="notice" role="note">
      <p><strong>Once the connection is enabled, everyone with an email address at its verified domains, including you, must sign in through SSO.</strong></p>
      <p>Their current password and LinkedIn sessions end when you click Create. Your own session is kept so you can see the confirmation. Pending domains start working once verified.</p>
    </div>
    <p class="actions">
      <button type="submit" class="btn btn-primary">Create</button>
      <button type="submit" class="btn btn-secondary" formaction="${adminPaths.oidc}/test" data-testid="test-sign-in">Test sign-in</button>
    </p>
    <p class="field-help">Test sign-in goes through your identity provider and back with these values and shows what a sign-in would produce, without saving the connection or signing anyone in.</p>
  </form>
</section>`,
  });
}
