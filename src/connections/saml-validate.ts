import type { ProviderRole, RoleRule } from "../domain/provider-roles.js";
import { isGatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import type { SamlSettings } from "../sso/saml/index.js";
import { signingMethodsProblem } from "../sso/saml/metadata-algorithms.js";
import { fieldErrors } from "./create.js";
import { fetchIdpMetadataXml } from "./saml-metadata-url.js";
import { checkConnectionDomains, checkConnectionName, checkRoles } from "./validate.js";

/**
 * The IdP's side of a SAML connection as an admin or API client gives it: exactly one of its
 * metadata URL, its metadata XML, or its entity ID + SSO URL + signing certificate(s).
 */
export interface SamlIdpInput {
  metadataUrl?: string | undefined;
  metadataXml?: string | undefined;
  entityId?: string | undefined;
  ssoUrl?: string | undefined;
  sloUrl?: string | undefined;
  /** Not a form or API field: the stored IdP's, when an edit checks it again by hand. */
  sloResponseUrl?: string | undefined;
  certificates?: string[] | undefined;
}

/** What an admin or API client submits to create a SAML connection. */
export interface SamlConnectionInput {
  name: string;
  domains: string[];
  idp: SamlIdpInput;
  /** IdP-initiated (unsolicited) sign-in; off unless asked for. */
  allowIdpInitiated?: boolean | undefined;
  emailAttribute?: string | undefined;
  nameAttribute?: string | undefined;
  groupsAttribute?: string | undefined;
  roleRules?: { group: string; role: string }[] | undefined;
  defaultRole?: string | undefined;
}

/** Every field a SAML refusal may name, flat, in the order forms list them. */
export const SAML_FIELDS = [
  "name",
  "metadataUrl",
  "metadataXml",
  "entityId",
  "ssoUrl",
  "sloUrl",
  "certificates",
  "domains",
  "allowIdpInitiated",
  "emailAttribute",
  "nameAttribute",
  "groupsAttribute",
  "roleRules",
  "defaultRole",
] as const;
export type SamlField = (typeof SAML_FIELDS)[number];

/** The fields that describe the IdP (under `idp` in the API). */
export const SAML_IDP_FIELDS: readonly SamlField[] = [
  "metadataUrl",
  "metadataXml",
  "entityId",
  "ssoUrl",
  "sloUrl",
  "certificates",
];

export interface ValidSamlConnectionInput {
  name: string;
  domains: string[];
  settings: SamlSettings;
  /** Where the metadata came from, kept so the admin sees it (and could refresh from it). */
  metadataUrl: string | null;
  roleRules: RoleRule[];
  defaultRole: ProviderRole;
}

type SamlFieldErrors = Partial<Record<SamlField, string>>;

function present(value: string | undefined): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/** Exactly one way of giving the IdP's settings; by hand, any of the three fields counts. */
function chosenSource(idp: SamlIdpInput): "url" | "xml" | "manual" | "none" | "several" {
  const manual = present(idp.entityId) || present(idp.ssoUrl) || (idp.certificates ?? []).some(present);
  const given = [present(idp.metadataUrl), present(idp.metadataXml), manual].filter(Boolean).length;
  if (given === 0) return "none";
  if (given > 1) return "several";
  return present(idp.metadataUrl) ? "url" : present(idp.metadataXml) ? "xml" : "manual";
}

/**
 * Every check of a SAML connection's input, in order: the fields that need no I/O, then the
 * metadata download (through the outbound module), then the metadata itself. All problems are
 * reported together, per field (VALIDATION_FAILED); nothing is written.
 */
export async function validateSamlConnectionInput(
  ctx: AppContext,
  input: SamlConnectionInput,
): Promise<ValidSamlConnectionInput> {
  const errors: SamlFieldErrors = {};
  const name = input.name.trim();
  const nameError = checkConnectionName(name);
  if (nameError) errors.name = nameError;
  const { domains, error: domainsError } = checkConnectionDomains(input.domains);
  if (domainsError) errors.domains = domainsError;
  const roles = checkRoles(input);
  Object.assign(errors, roles.errors);

  const source = chosenSource(input.idp);
  let settings: SamlSettings | undefined;
  if (source === "none") {
    errors.metadataUrl =
      "Enter your identity provider's metadata URL, paste its metadata, or enter its settings by hand.";
  } else if (source === "several") {
    errors.metadataUrl =
      "Give the metadata URL, the metadata XML, or the settings by hand: only one of them.";
  } else {
    settings = await readSettings(ctx, input, source, errors);
  }
  if (Object.keys(errors).length > 0 || !settings) throw fieldErrors(errors as Record<string, string>);
  return {
    name,
    domains,
    settings,
    metadataUrl: source === "url" ? (input.idp.metadataUrl ?? "").trim() : null,
    roleRules: roles.roleRules,
    defaultRole: roles.defaultRole,
  };
}

async function readSettings(
  ctx: AppContext,
  input: SamlConnectionInput,
  source: "url" | "xml" | "manual",
  errors: SamlFieldErrors,
): Promise<SamlSettings | undefined> {
  let metadataXml = source === "xml" ? input.idp.metadataXml : undefined;
  if (source === "url") {
    try {
      metadataXml = await fetchIdpMetadataXml(ctx, input.idp.metadataUrl ?? "");
    } catch (error) {
      if (!isGatehouseError(error) || !error.fields) throw error;
      Object.assign(errors, error.fields);
      return undefined;
    }
  }
  // The field the admin filled is the one to show a metadata problem beside.
  const metadataField = source === "url" ? "metadataUrl" : "metadataXml";
  try {
    // The protocol's own settings check, through its sign-in adapter (validateSettings).
    const adapter = ctx.signIn.get(ctx, "saml");
    if (!adapter.validateSettings) throw new Error("the SAML adapter validates no settings");
    const settings = (await adapter.validateSettings({
      ...(metadataXml === undefined
        ? {
            entityId: input.idp.entityId,
            ssoUrl: input.idp.ssoUrl,
            sloUrl: input.idp.sloUrl,
            sloResponseUrl: input.idp.sloResponseUrl,
            certificates: input.idp.certificates,
          }
        : { metadataXml }),
      allowIdpInitiated: input.allowIdpInitiated,
      emailAttribute: input.emailAttribute,
      nameAttribute: input.nameAttribute,
      groupsAttribute: input.groupsAttribute,
    })) as SamlSettings;
    const algorithms = metadataXml === undefined ? undefined : signingMethodsProblem(metadataXml);
    if (algorithms) errors[metadataField] = algorithms;
    return settings;
  } catch (error) {
    if (!isGatehouseError(error) || !error.fields) throw error;
    for (const [field, message] of Object.entries(error.fields)) {
      errors[(field === "metadataXml" ? metadataField : field) as SamlField] = message;
    }
    return undefined;
  }
}
