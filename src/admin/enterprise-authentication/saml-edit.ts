import { html } from "../../web/html.js";
import { adminPage, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { errorSummary, type FormRefusal, formField, type SetupDomain } from "./form-fields.js";
import { connectionPaths } from "./paths.js";
import type { SamlFormField, SamlFormValues } from "./saml-form.js";
import {
  advancedOpen,
  allSamlFields,
  metadataSourceFieldset,
  samlAdvancedFields,
  samlDomainsField,
  samlIdpInitiatedField,
  samlNameField,
} from "./saml-setup.js";

export interface SamlEditPageModel {
  session: AdminSession;
  csrfToken: string;
  connection: { id: string; name: string };
  values: SamlFormValues;
  refusal?: FormRefusal<SamlFormField> | undefined;
  organizationDomains: readonly SetupDomain[];
}

/**
 * Every setting of a saved SAML connection, prefilled. The IdP's side is kept unless the admin
 * chooses another way to give it: downloading the metadata URL again is how a rolled-over
 * certificate is picked up. The ACS URL, SP Entity ID and Gatehouse's certificate never change.
 */
export function samlEditPage(m: SamlEditPageModel): string {
  const c = m.connection;
  return adminPage({
    title: m.refusal ? `Edit ${c.name}: check the form` : `Edit ${c.name}`,
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [
      crumbs.administration,
      crumbs.enterpriseAuthentication,
      crumbs.saml,
      { label: c.name, href: connectionPaths.page(c.id, "saml") },
      { label: "Edit" },
    ],
    body: html`<section class="page-head">
  <h1>Edit ${c.name}</h1>
  <p class="lead">Change any setting. New IdP settings are checked as at Create; if they are refused, nothing is saved. What your identity provider holds (ACS URL, SP Entity ID, Gatehouse's certificate) stays the same.</p>
</section>
${m.refusal ? errorSummary(m.refusal, allSamlFields) : ""}
<section class="card" data-testid="saml-edit">
  <form method="post" action="${connectionPaths.edit(c.id, "saml")}" class="stack" novalidate>
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    ${formField(samlNameField, m)}
    ${metadataSourceFieldset(m, { keep: true })}
    ${formField(samlDomainsField, m)}
    ${formField(samlIdpInitiatedField, m)}
    <details class="advanced" data-testid="advanced-settings"${advancedOpen(m) ? " open" : ""}>
      <summary>Attributes and roles</summary>
      <div class="stack">
        ${samlAdvancedFields.map((f) => formField(f, m))}
      </div>
    </details>
    <p class="actions">
      <button type="submit" class="btn btn-primary" data-testid="save-connection">Save changes</button>
      <button type="submit" class="btn btn-secondary" formaction="${connectionPaths.edit(c.id, "saml")}/test" data-testid="test-sign-in">Test sign-in</button>
      <a class="btn btn-secondary" href="${connectionPaths.page(c.id, "saml")}">Cancel</a>
    </p>
    <p class="field-help">Test sign-in goes through your identity provider and back with these values, before you save them, and shows what a sign-in would produce; the saved connection keeps working unchanged meanwhile.</p>
  </form>
</section>`,
  });
}
