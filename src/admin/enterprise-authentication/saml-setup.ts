import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, copyField, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import {
  errorSummary,
  type FieldSpec,
  type FormRefusal,
  formField,
  type SetupDomain,
} from "./form-fields.js";
import {
  emptySamlForm,
  type FormMetadataSource,
  type MetadataSource,
  type SamlFormField,
  type SamlFormValues,
} from "./saml-form.js";

/** What the admin copies into the IdP: every value derives from the connection's id. */
export interface ServiceProviderValues {
  acsUrl: string;
  entityId: string;
  metadataUrl: string;
}

export interface SamlSetupPageModel {
  session: AdminSession;
  csrfToken: string;
  /** The id the connection will have, and the proof the form sends back with it. */
  newId: { id: string; proof: string };
  sp: ServiceProviderValues;
  values: SamlFormValues;
  refusal?: FormRefusal<SamlFormField> | undefined;
  notice?: SafeHtml | undefined;
  organizationDomains: readonly SetupDomain[];
}

type SamlFieldsModel = Pick<SamlSetupPageModel, "values" | "refusal" | "organizationDomains">;

export const samlNameField: FieldSpec<SamlFormField> = {
  name: "name",
  label: "Connection name",
  type: "text",
  placeholder: "Acme AD FS",
  help: html`A name you recognize, unique across Gatehouse. With several connections, people see it on your organization's sign-in page.`,
};

/** One panel per way of giving the IdP's settings; the radio above chooses which is read. */
export const sourceFields: Record<MetadataSource, readonly FieldSpec<SamlFormField>[]> = {
  url: [
    {
      name: "metadataUrl",
      label: "IdP metadata URL",
      type: "url",
      placeholder: "https://adfs.acme.com/FederationMetadata/2007-06/FederationMetadata.xml",
      help: html`Okta: the app's Sign On tab, <em>Metadata URL</em>. Microsoft Entra ID: <em>App Federation Metadata Url</em>. AD FS: <code>/FederationMetadata/2007-06/FederationMetadata.xml</code>. Gatehouse downloads it once, over https.`,
    },
  ],
  xml: [
    {
      name: "metadataXml",
      label: "IdP metadata XML",
      type: "textarea",
      rows: 8,
      placeholder: '<md:EntityDescriptor entityID="…">',
      help: html`Paste the whole metadata document (Google Workspace: <em>Download metadata</em> on the custom SAML app).`,
    },
  ],
  manual: [
    {
      name: "entityId",
      label: "IdP entity ID (Issuer)",
      type: "text",
      placeholder: "http://www.okta.com/exk1abcd",
      help: html`Exactly as the IdP writes it in the <code>Issuer</code> of its assertions.`,
    },
    {
      name: "ssoUrl",
      label: "IdP single sign-on URL",
      type: "url",
      placeholder: "https://acme.okta.com/app/acme_gatehouse/exk1abcd/sso/saml",
      help: html`Where Gatehouse sends people to sign in (HTTP-Redirect binding).`,
    },
    {
      name: "sloUrl",
      label: "IdP single logout URL (optional)",
      type: "url",
      help: html`Leave empty if the IdP has none: signing out then ends the Gatehouse session only.`,
    },
    {
      name: "certificates",
      label: "IdP signing certificate",
      type: "textarea",
      rows: 6,
      placeholder: "-----BEGIN CERTIFICATE-----",
      help: html`PEM or the bare base64. Paste two (one after the other) during a certificate rollover. RSA of at least 2048 bits.`,
    },
  ],
};

const sourceLabels: Record<FormMetadataSource, string> = {
  keep: "Keep the current settings",
  url: "Metadata URL",
  xml: "Paste metadata XML",
  manual: "Enter settings by hand",
};

export const samlDomainsField: FieldSpec<SamlFormField> = {
  name: "domains",
  label: "Email domains",
  type: "text",
  placeholder: "acme.com",
  help: html`Your company's email domain, the part after the @, such as <code>acme.com</code>. Separate several with commas or spaces. A domain your organization has not verified yet is added as pending: it starts working once you publish its DNS record and verify it.`,
};

export const samlIdpInitiatedField: FieldSpec<SamlFormField> = {
  name: "allowIdpInitiated",
  label: "Allow IdP-initiated sign-in",
  type: "checkbox",
  help: html`Accept sign-ins that start at the IdP (an Okta or Google dashboard tile) rather than at Gatehouse. Off by default: an unsolicited response cannot be tied to a request Gatehouse sent, so only its one-time assertion ID protects it from replay.`,
};

export const samlAdvancedFields: readonly FieldSpec<SamlFormField>[] = [
  {
    name: "emailAttribute",
    label: "Email attribute",
    type: "text",
    placeholder: "email",
    help: html`Leave empty: Gatehouse reads an email-format NameID, then <code>email</code>, <code>mail</code>, <code>urn:oid:0.9.2342.19200300.100.1.3</code> and the Microsoft claim URIs. Set it when your IdP uses another name; then only that attribute is read.`,
  },
  {
    name: "nameAttribute",
    label: "Name attribute",
    type: "text",
    placeholder: "displayName",
    help: html`Leave empty for <code>name</code>, <code>displayName</code>, <code>cn</code> or given name + surname.`,
  },
  {
    name: "groupsAttribute",
    label: "Groups attribute",
    type: "text",
    placeholder: "groups",
    help: html`Leave empty for <code>groups</code>, <code>memberOf</code> and the Microsoft group claim URIs. Every value counts, for the role rules below.`,
  },
  {
    name: "roleRules",
    label: "Roles from groups",
    type: "textarea",
    placeholder: "Gatehouse Admins = admin",
    help: html`One rule a line, <code>group = admin</code> or <code>group = member</code>. With rules, the role follows your IdP at every sign-in. Never owner.`,
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

/** Every field in page order, for the refusal's summary. */
export const allSamlFields: readonly FieldSpec<SamlFormField>[] = [
  samlNameField,
  ...sourceFields.url,
  ...sourceFields.xml,
  ...sourceFields.manual,
  samlDomainsField,
  samlIdpInitiatedField,
  ...samlAdvancedFields,
];

/** The three ways of giving the IdP's settings: radios, each with its panel (CSS shows the chosen one). */
export function metadataSourceFieldset(m: SamlFieldsModel, options: { keep?: boolean } = {}): SafeHtml {
  const chosen = m.values.metadataSource;
  const offered = (Object.keys(sourceLabels) as FormMetadataSource[]).filter(
    (s) => s !== "keep" || options.keep,
  );
  return html`<fieldset class="field metadata-source" data-testid="metadata-source">
  <legend class="label">Identity provider settings</legend>
  <div class="segmented" role="radiogroup" aria-label="How to give the identity provider's settings">${offered.map(
    (source) =>
      html`<label class="segment"><input type="radio" name="metadataSource" value="${source}"${source === chosen ? " checked" : ""} data-testid="source-${source}"> <span>${sourceLabels[source]}</span></label>`,
  )}</div>
  ${(Object.keys(sourceFields) as MetadataSource[]).map(
    (source) =>
      html`<div class="source-panel stack" data-source="${source}">${sourceFields[source].map((f) => formField(f, m))}</div>`,
  )}
</fieldset>`;
}

/** The values to copy, with where each goes at the common IdPs. */
export function serviceProviderFields(sp: ServiceProviderValues, idSuffix = "", created = false): SafeHtml {
  return html`${copyField({
    id: `acs-url${idSuffix}`,
    label: "ACS URL",
    value: sp.acsUrl,
    help: html`Okta: <em>Single sign-on URL</em>. Entra ID: <em>Reply URL</em>. Google: <em>ACS URL</em>. AD FS: the SAML Assertion Consumer endpoint.`,
  })}
  ${copyField({
    id: `sp-entity-id${idSuffix}`,
    label: "SP Entity ID",
    value: sp.entityId,
    help: html`Okta: <em>Audience URI (SP Entity ID)</em>. Entra ID: <em>Identifier (Entity ID)</em>. Google: <em>Entity ID</em>. AD FS: the relying party identifier.`,
  })}
  ${copyField({
    id: `sp-metadata-url${idSuffix}`,
    label: "SP metadata URL",
    value: sp.metadataUrl,
    help: html`For IdPs that import the SP's settings (AD FS, Entra ID's <em>Upload metadata file</em>). It lists Gatehouse's certificate for signed requests and encrypted assertions${created ? "" : ", and answers once the connection is created"}.`,
  })}`;
}

/** The SAML 2.0 Setup page: what to copy into the IdP (before anything exists), then the form. */
export function samlSetupPage(m: SamlSetupPageModel): string {
  return adminPage({
    title: m.refusal ? "SAML 2.0: check the form" : "SAML 2.0",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, crumbs.enterpriseAuthentication, { label: crumbs.saml.label }],
    body: html`<section class="page-head">
  <h1>SAML 2.0</h1>
  <p class="lead">Let people at ${m.session.organizationName} sign in with an identity provider that speaks SAML 2.0: AD FS, Okta, Microsoft Entra ID, Google Workspace, Shibboleth and others.</p>
</section>
${m.notice ?? ""}
${m.refusal ? errorSummary(m.refusal, allSamlFields) : ""}
<section class="card" data-testid="saml-sp-values">
  <h2 class="section-title">1. In your identity provider</h2>
  <ol class="checklist">
    <li>Create a SAML 2.0 application (Okta, Entra ID, Google) or relying party trust (AD FS).</li>
    <li>Paste the <strong>ACS URL</strong> and the <strong>SP Entity ID</strong> below, or import the <strong>SP metadata URL</strong> once the connection is created. <span data-testid="sp-values-kept">They stay the same, for every admin and whenever you come back, until you click Create.</span></li>
    <li>Name ID: the person's <strong>email address</strong> (format EmailAddress). Sign the <strong>assertion</strong> with <strong>RSA-SHA256</strong>.</li>
    <li>Assign the people or groups who may sign in, then copy the IdP's <strong>metadata URL</strong> or download its metadata.</li>
  </ol>
  ${serviceProviderFields(m.sp)}
</section>
<section class="card" data-testid="saml-setup">
  <h2 class="section-title">2. In Gatehouse</h2>
  <form method="post" action="${adminPaths.saml}" class="stack" novalidate>
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    <input type="hidden" name="connectionId" value="${m.newId.id}">
    <input type="hidden" name="connectionIdProof" value="${m.newId.proof}">
    ${formField(samlNameField, m)}
    ${metadataSourceFieldset(m)}
    ${formField(samlDomainsField, m)}
    ${formField(samlIdpInitiatedField, m)}
    <details class="advanced" data-testid="advanced-settings"${advancedOpen(m) ? " open" : ""}>
      <summary>Attributes and roles</summary>
      <div class="stack">
        ${samlAdvancedFields.map((f) => formField(f, m))}
      </div>
    </details>
    <div class="notice" role="note">
      <p><strong>Once the connection is enabled, everyone with an email address at its verified domains, including you, must sign in through SSO.</strong></p>
      <p>Their current password and LinkedIn sessions end when you click Create. Your own session is kept so you can see the confirmation. Pending domains start working once verified.</p>
    </div>
    <p class="actions">
      <button type="submit" class="btn btn-primary" data-testid="create-connection">Create</button>
      <button type="submit" class="btn btn-secondary" formaction="${adminPaths.saml}/test" data-testid="test-sign-in">Test sign-in</button>
    </p>
    <p class="field-help">Test sign-in goes through your identity provider and back to the ACS URL above with these values and shows what a sign-in would produce, without saving the connection or signing anyone in. Your IdP must already have the ACS URL and SP Entity ID, and must not encrypt assertions yet: Gatehouse's certificate exists once the connection is created.</p>
  </form>
</section>`,
  });
}

export function advancedOpen(m: SamlFieldsModel): boolean {
  return samlAdvancedFields.some(
    ({ name }) => Boolean(m.refusal?.fields[name]) || m.values[name].trim() !== emptySamlForm[name],
  );
}
