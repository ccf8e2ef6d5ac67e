import { splitDomains } from "../../connections/validate.js";
import { canonicalDomain } from "../../domain/organization-domains.js";
import type { DomainView } from "../../domains/view.js";
import type { ErrorCode } from "../../errors.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPaths } from "../components.js";

/**
 * The parts of a connection form that do not depend on the protocol: one field with its label,
 * help and error beside it, the organization's domains to tick, and the summary of a refusal.
 * The Open ID Connect and SAML 2.0 forms are lists of these.
 */
export interface FieldSpec<F extends string = string> {
  name: F;
  label: string;
  help: SafeHtml;
  type: "text" | "url" | "password" | "select" | "textarea" | "checkbox";
  placeholder?: string;
  options?: readonly { value: string; label: string }[];
  /** For textareas; 4 by default. */
  rows?: number;
  inputMode?: "numeric";
}

export type SetupDomain = Pick<DomainView, "domain" | "displayName" | "state" | "active">;

/** A refusal the form explains in place, rather than on an error page. */
export interface FormRefusal<F extends string = string> {
  code: ErrorCode;
  status: number;
  message: string;
  /** The technical reason, for the log only. */
  detail: string | undefined;
  fields: Partial<Record<F, string>>;
}

/** What a form's fields read. A field missing from `values` (a secret) is shown empty. */
export interface FieldsModel<F extends string = string> {
  values: Partial<Record<F, string>>;
  refusal?: FormRefusal<F> | undefined;
  /** The organization's domains, verified and pending, offered by the domain field. */
  organizationDomains: readonly SetupDomain[];
}

function control(spec: FieldSpec, value: string, describedBy: string, invalid: boolean): SafeHtml {
  const common = html`id="field-${spec.name}" name="${spec.name}" aria-describedby="${describedBy}"${invalid ? html` aria-invalid="true"` : ""}`;
  const placeholder = spec.placeholder ? html` placeholder="${spec.placeholder}"` : "";
  if (spec.type === "select") {
    return html`<select ${common}>${(spec.options ?? []).map(
      (o) => html`<option value="${o.value}"${o.value === value ? " selected" : ""}>${o.label}</option>`,
    )}</select>`;
  }
  if (spec.type === "textarea") {
    return html`<textarea ${common} rows="${String(spec.rows ?? 4)}" autocomplete="off" spellcheck="false"${placeholder}>${value}</textarea>`;
  }
  return html`<input ${common} type="${spec.type}" value="${value}" autocomplete="off" spellcheck="false"${placeholder}${spec.inputMode ? html` inputmode="${spec.inputMode}"` : ""}>`;
}

const domainStateLabel: Record<SetupDomain["state"], SafeHtml> = {
  verified: html`<span class="badge badge-success">Verified</span>`,
  pending: html`<span class="badge badge-neutral">Pending verification</span>`,
  failing: html`<span class="badge badge-warning">Record missing</span>`,
};

/**
 * The domain field once the organization has domains: each offered with its state, ticked when
 * the form holds it, and a text field for new ones, which join the organization as pending.
 */
function domainField(spec: FieldSpec, m: FieldsModel): SafeHtml {
  const known = new Set(m.organizationDomains.map((d) => d.domain));
  const typed = splitDomains(m.values.domains ?? "");
  const chosen = new Set(typed.map((d) => canonicalDomain(d.replace(/^@/, "")) ?? d));
  const others = typed.filter((d) => !known.has(canonicalDomain(d.replace(/^@/, "")) ?? d));
  const error = m.refusal?.fields.domains;
  const describedBy = ["domains-help", error ? "domains-error" : ""].filter(Boolean).join(" ");
  return html`<fieldset class="field${error ? " has-error" : ""}" data-testid="domain-field">
  <legend class="label">${spec.label}</legend>
  <ul class="choices" data-testid="domain-choices">${m.organizationDomains.map(
    (d) =>
      html`<li><label class="checkbox"><input type="checkbox" name="knownDomains" value="${d.domain}"${chosen.has(d.domain) ? " checked" : ""}> <span>${d.displayName} ${domainStateLabel[d.state]}</span></label></li>`,
  )}</ul>
  <label for="field-domains">Other domains</label>
  <input id="field-domains" name="domains" type="text" value="${others.join(", ")}" autocomplete="off" spellcheck="false" placeholder="${spec.placeholder ?? ""}" aria-describedby="${describedBy}"${error ? html` aria-invalid="true"` : ""}>
  <p class="field-help" id="domains-help">Tick your company's email domains, or type new ones, separated by commas or spaces. A new domain is added to your organization as pending: it starts working once you publish its DNS record and verify it on the <a href="${adminPaths.domains}">Domains</a> page.</p>
  ${error ? html`<p class="field-error" id="domains-error">${error}</p>` : ""}
</fieldset>`;
}

/** A checkbox with its label beside it; the form sends "1" when ticked. */
function checkboxField(spec: FieldSpec, m: FieldsModel): SafeHtml {
  const error = m.refusal?.fields[spec.name];
  const describedBy = [`${spec.name}-help`, error ? `${spec.name}-error` : ""].filter(Boolean).join(" ");
  return html`<div class="field${error ? " has-error" : ""}">
  <label class="checkbox"><input type="checkbox" id="field-${spec.name}" name="${spec.name}" value="1"${m.values[spec.name] === "1" ? " checked" : ""} aria-describedby="${describedBy}"> <span>${spec.label}</span></label>
  <p class="field-help" id="${spec.name}-help">${spec.help}</p>
  ${error ? html`<p class="field-error" id="${spec.name}-error">${error}</p>` : ""}
</div>`;
}

/** One field: label, control, help, and the refusal's message beside it. `note` adds a line of help. */
export function formField<F extends string>(
  spec: FieldSpec<F>,
  m: FieldsModel<F>,
  note?: { id: string; text: SafeHtml },
): SafeHtml {
  const { name } = spec;
  if (name === "domains" && m.organizationDomains.length > 0) return domainField(spec, m as FieldsModel);
  if (spec.type === "checkbox") return checkboxField(spec, m as FieldsModel);
  const error = m.refusal?.fields[name];
  const value = m.values[name] ?? "";
  const describedBy = [`${name}-help`, error ? `${name}-error` : "", note ? note.id : ""]
    .filter(Boolean)
    .join(" ");
  return html`<div class="field${error ? " has-error" : ""}">
  <label for="field-${name}">${spec.label}</label>
  ${control(spec, value, describedBy, Boolean(error))}
  <p class="field-help" id="${name}-help">${spec.help}</p>
  ${note ? html`<p class="field-help" id="${note.id}">${note.text}</p>` : ""}
  ${error ? html`<p class="field-error" id="${name}-error">${error}</p>` : ""}
</div>`;
}

/** The refusal above the form, each field's message linking to the field. */
export function errorSummary<F extends string>(
  refusal: FormRefusal<F>,
  specs: readonly FieldSpec<F>[],
): SafeHtml {
  // A field message that only repeats the headline adds nothing but the link to the field.
  const listed = specs.filter((f) => refusal.fields[f.name]);
  return html`<div class="alert alert-error" role="alert" data-error-code="${refusal.code}" data-testid="form-error">
  <p><strong>${refusal.message}</strong></p>
  ${
    listed.length > 0
      ? html`<ul>${listed.map((f) => html`<li><a href="#field-${f.name}">${f.label}${refusal.fields[f.name] === refusal.message ? "" : html`: ${refusal.fields[f.name]}`}</a></li>`)}</ul>`
      : ""
  }
</div>`;
}
