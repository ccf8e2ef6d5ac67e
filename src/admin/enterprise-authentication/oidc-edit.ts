import type { ConnectionInput } from "../../connections/validate.js";
import { html } from "../../web/html.js";
import { adminPage, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import type { ConnectionFormValues, FormRefusal } from "./connection-form.js";
import {
  advancedFields,
  errorSummary,
  type FieldSpec,
  type FormModel,
  fields,
  formField,
} from "./oidc-setup.js";
import { connectionPaths } from "./paths.js";

export interface EditPageModel {
  session: AdminSession;
  csrfToken: string;
  connection: { id: string; name: string };
  values: ConnectionFormValues;
  refusal?: FormRefusal | undefined;
  secretSubmitted?: boolean;
  organizationDomains: FormModel["organizationDomains"];
  /** The connection signs in with Gatehouse's key, not a secret. */
  usesKey: boolean;
  /** The form holds the values of a test sign-in ("Back to the form"), not the saved ones. */
  fromTest?: boolean;
}

/** The stored settings as the form shows them; the secret field starts blank (blank keeps it). */
export function editFormValues(input: ConnectionInput): ConnectionFormValues {
  return {
    name: input.name,
    issuer: input.issuer,
    clientId: input.clientId,
    domains: input.domains.join(", "),
    tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? "auto",
    extraScopes: (input.extraScopes ?? []).join(" "),
    emailClaim: input.emailClaim ?? "",
    clockSkewSeconds: input.clockSkewSeconds === undefined ? "" : String(input.clockSkewSeconds),
    allowedTenants: (input.allowedTenants ?? []).join(" "),
    groupsClaim: input.groupsClaim ?? "",
    roleRules: (input.roleRules ?? []).map((r) => `${r.group} = ${r.role}`).join("\n"),
    defaultRole: input.defaultRole ?? "member",
  };
}

function secretSpec(spec: FieldSpec, usesKey: boolean): FieldSpec {
  return {
    ...spec,
    label: "New client secret",
    help: usesKey
      ? html`Not used with <code>private_key_jwt</code>. Enter one only when you switch to a client secret method.`
      : html`Leave blank to keep the current secret. A new one (say, before the old one expires) is checked with your identity provider before it is saved, and is never shown again.`,
  };
}

/** Every setting of a saved connection, prefilled; Save checks what changed as Create would. */
export function editPage(m: EditPageModel): string {
  // Values brought back from a test are shown whole: an advanced one may be what was tested.
  const advancedOpen = m.fromTest === true || advancedFields.some((f) => m.refusal?.fields[f.name]);
  const model: FormModel = {
    values: m.values,
    refusal: m.refusal,
    secretSubmitted: m.secretSubmitted ?? false,
    organizationDomains: m.organizationDomains,
  };
  return adminPage({
    title: m.refusal ? `Edit ${m.connection.name}: check the form` : `Edit ${m.connection.name}`,
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [
      crumbs.administration,
      crumbs.enterpriseAuthentication,
      crumbs.oidc,
      { label: m.connection.name, href: connectionPaths.page(m.connection.id) },
      { label: "Edit" },
    ],
    body: html`<section class="page-head">
  <h1>Edit ${m.connection.name}</h1>
  <p class="lead">Change any setting. When the issuer, the client ID, the secret or the token endpoint authentication changes, Gatehouse checks them with your identity provider before saving; if the provider refuses, nothing is saved. Other settings, such as the email claim, take effect at everyone's next sign-in: <strong>Test sign-in</strong> tries them first.</p>
</section>
${m.refusal ? errorSummary(m.refusal) : ""}
${m.fromTest && !m.refusal ? html`<div class="notice" role="status" data-testid="tested-values"><p>The form holds the values you tested, <strong>not saved yet</strong>: <strong>Save changes</strong> saves them; <strong>Cancel</strong> keeps the saved connection as it is.${m.usesKey ? "" : " Enter the new client secret again if you changed it."}</p></div>` : ""}
<section class="card" data-testid="oidc-edit">
  <form method="post" action="${connectionPaths.edit(m.connection.id)}" class="stack" novalidate>
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    ${fields.map((f) => formField(f.name === "clientSecret" ? secretSpec(f, m.usesKey) : f, model))}
    <details class="advanced" data-testid="advanced-settings"${advancedOpen ? " open" : ""}>
      <summary>Advanced settings</summary>
      <div class="stack">
        ${advancedFields.map((f) => formField(f, model))}
      </div>
    </details>
    <p class="actions">
      <button type="submit" class="btn btn-primary" data-testid="save-connection">Save changes</button>
      <button type="submit" class="btn btn-secondary" formaction="${connectionPaths.edit(m.connection.id)}/test" data-testid="test-sign-in">Test sign-in</button>
      <a class="btn btn-secondary" href="${connectionPaths.page(m.connection.id)}">Cancel</a>
    </p>
    <p class="field-help">Test sign-in goes through your identity provider and back with these values, before you save them, and shows what a sign-in would produce; the saved connection keeps signing people in unchanged meanwhile. A blank client secret tests the stored one.</p>
  </form>
</section>`,
  });
}
