import { SAML_FIELDS, type SamlConnectionInput, type SamlField } from "../../connections/saml-validate.js";
import { splitDomains } from "../../connections/validate.js";
import { splitRoleRules } from "../../domain/provider-roles.js";
import { isGatehouseError } from "../../errors.js";
import { textField, textFields } from "../../web/form.js";
import type { FormRefusal } from "./form-fields.js";

/**
 * How the admin gives the IdP's settings: its metadata URL, its metadata pasted, or by hand;
 * on the edit page also "keep", which leaves the stored ones alone.
 */
export type MetadataSource = "url" | "xml" | "manual";
export type FormMetadataSource = MetadataSource | "keep";
export const METADATA_SOURCES: readonly MetadataSource[] = ["url", "xml", "manual"];

/** The form's fields: the service's, and which way the IdP's settings are given. */
export type SamlFormField = SamlField | "metadataSource";

/** What the form shows again after a refusal, as typed. Nothing here is a secret. */
export type SamlFormValues = Record<Exclude<SamlFormField, "metadataSource">, string> & {
  metadataSource: FormMetadataSource;
};

export const emptySamlForm: SamlFormValues = {
  name: "",
  metadataSource: "url",
  metadataUrl: "",
  metadataXml: "",
  entityId: "",
  ssoUrl: "",
  sloUrl: "",
  certificates: "",
  domains: "",
  allowIdpInitiated: "",
  emailAttribute: "",
  nameAttribute: "",
  groupsAttribute: "",
  roleRules: "",
  defaultRole: "member",
};

export interface SubmittedSamlForm {
  values: SamlFormValues;
  /** Without `idp` when the edit keeps the stored IdP settings. */
  input: Omit<SamlConnectionInput, "idp"> & { idp?: SamlConnectionInput["idp"] };
}

function isSource(value: string, allowKeep: boolean): value is FormMetadataSource {
  return (METADATA_SOURCES as readonly string[]).includes(value) || (allowKeep && value === "keep");
}

/**
 * Reads the SAML form. Only the chosen source's fields become input: the others may still hold
 * what the admin typed before switching, which must not be checked or saved. Generous length
 * limits stop absurd bodies; the service's checks answer beside each field.
 */
export function readSamlForm(body: unknown, options: { allowKeep?: boolean } = {}): SubmittedSamlForm {
  const source = textField(body, "metadataSource", 20);
  const allowKeep = options.allowKeep === true;
  const values: SamlFormValues = {
    name: textField(body, "name", 1000),
    metadataSource: isSource(source, allowKeep) ? source : allowKeep ? "keep" : "url",
    metadataUrl: textField(body, "metadataUrl", 2000),
    // Metadata larger than the module's cap is refused by it, beside the field.
    metadataXml: textField(body, "metadataXml", 1024 * 1024),
    entityId: textField(body, "entityId", 2000),
    ssoUrl: textField(body, "ssoUrl", 2000),
    sloUrl: textField(body, "sloUrl", 2000),
    certificates: textField(body, "certificates", 64 * 1024),
    domains: [...textFields(body, "knownDomains", 100, 300), textField(body, "domains", 5000)]
      .filter(Boolean)
      .join(" "),
    allowIdpInitiated: textField(body, "allowIdpInitiated", 10) === "1" ? "1" : "",
    emailAttribute: textField(body, "emailAttribute", 600),
    nameAttribute: textField(body, "nameAttribute", 600),
    groupsAttribute: textField(body, "groupsAttribute", 600),
    roleRules: textField(body, "roleRules", 30000),
    defaultRole: textField(body, "defaultRole", 20) || "member",
  };
  const idp: SamlConnectionInput["idp"] | undefined =
    values.metadataSource === "keep"
      ? undefined
      : values.metadataSource === "url"
        ? { metadataUrl: values.metadataUrl }
        : values.metadataSource === "xml"
          ? { metadataXml: values.metadataXml }
          : {
              entityId: values.entityId,
              ssoUrl: values.ssoUrl,
              sloUrl: values.sloUrl,
              certificates: [values.certificates],
            };
  return {
    values,
    input: {
      name: values.name,
      domains: splitDomains(values.domains),
      ...(idp ? { idp } : {}),
      allowIdpInitiated: values.allowIdpInitiated === "1",
      emailAttribute: values.emailAttribute,
      nameAttribute: values.nameAttribute,
      groupsAttribute: values.groupsAttribute,
      roleRules: splitRoleRules(values.roleRules),
      defaultRole: values.defaultRole,
    },
  };
}

/** A refusal the SAML form explains beside its fields; anything else is not the form's to show. */
export function toSamlFormRefusal(error: unknown): FormRefusal<SamlFormField> | undefined {
  if (!isGatehouseError(error)) return undefined;
  if (error.code !== "VALIDATION_FAILED" && error.code !== "CONFLICT") return undefined;
  const fields: Partial<Record<SamlFormField, string>> = {};
  for (const name of SAML_FIELDS) {
    const message = error.fields?.[name];
    if (message) fields[name] = message;
  }
  return { code: error.code, status: error.status, message: error.message, detail: error.detail, fields };
}
