import { validationError } from "../../errors.js";
import { isSamlCheckError } from "./checks.js";
import { type IdpMetadata, normalizeCertificate, parseIdpMetadata } from "./idp-metadata.js";

/**
 * A SAML connection's settings as the admin gives them: the IdP's metadata XML, or its entity
 * ID, SSO URL and signing certificate(s) by hand; plus optional attribute names for IdPs that
 * send email, name or groups under a name Gatehouse does not already know.
 */
export interface SamlSettingsInput {
  metadataXml?: unknown;
  entityId?: unknown;
  ssoUrl?: unknown;
  sloUrl?: unknown;
  /** Kept from earlier metadata when the stored IdP is checked again as if entered by hand. */
  sloResponseUrl?: unknown;
  certificates?: unknown;
  allowIdpInitiated?: unknown;
  emailAttribute?: unknown;
  nameAttribute?: unknown;
  groupsAttribute?: unknown;
}

/** Normalized settings: what the protocol module needs, nothing that came only from the form. */
export interface SamlSettings {
  idp: IdpMetadata;
  /** IdP-initiated (unsolicited) responses are refused unless this is on. */
  allowIdpInitiated: boolean;
  /** Attribute names to read before the well-known ones. */
  attributes: { email?: string; name?: string; groups?: string };
}

export interface SettingsOptions {
  /** `http:` IdP URLs, for development and tests (GATEHOUSE_ALLOW_PRIVATE_ISSUERS). */
  allowInsecureUrls?: boolean;
}

/** Validates and normalizes; every problem is reported per field (VALIDATION_FAILED). */
export function validateSamlSettings(input: SamlSettingsInput, options: SettingsOptions = {}): SamlSettings {
  const fields: Record<string, string> = {};
  let idp: IdpMetadata | undefined;

  const metadataXml = optionalString(input.metadataXml);
  if (metadataXml) {
    try {
      idp = parseIdpMetadata(metadataXml);
    } catch (error) {
      if (!isSamlCheckError(error)) throw error;
      fields.metadataXml = `The IdP metadata was not accepted: ${error.message}.`;
    }
  } else {
    const entityId = optionalString(input.entityId);
    const ssoUrl = optionalString(input.ssoUrl);
    const sloUrl = optionalString(input.sloUrl);
    const sloResponseUrl = optionalString(input.sloResponseUrl);
    const certificates = certificateList(input.certificates);
    if (!entityId) fields.entityId = "Enter the IdP's entity ID (Issuer), or paste its metadata.";
    if (!ssoUrl) fields.ssoUrl = "Enter the IdP's single sign-on URL, or paste its metadata.";
    if (certificates.length === 0) fields.certificates = "Paste the IdP's signing certificate.";
    const pems: string[] = [];
    for (const certificate of certificates) {
      try {
        pems.push(normalizeCertificate(certificate));
      } catch (error) {
        if (!isSamlCheckError(error)) throw error;
        fields.certificates = `A certificate was not accepted: ${error.message}.`;
      }
    }
    if (entityId && ssoUrl && pems.length > 0) {
      idp = {
        entityId,
        ssoUrl,
        ssoBinding: "redirect",
        ...(sloUrl ? { sloUrl, sloBinding: "redirect" as const } : {}),
        ...(sloUrl && sloResponseUrl ? { sloResponseUrl } : {}),
        signingCertificates: pems,
        wantAuthnRequestsSigned: false,
      };
    }
  }

  if (idp) {
    const insecure = options.allowInsecureUrls === true;
    const ssoProblem = urlProblem(idp.ssoUrl, insecure);
    if (ssoProblem) fields[metadataXml ? "metadataXml" : "ssoUrl"] = `The single sign-on URL ${ssoProblem}.`;
    if (idp.ssoBinding !== "redirect") {
      fields[metadataXml ? "metadataXml" : "ssoUrl"] =
        "The IdP offers no HTTP-Redirect single sign-on endpoint, which Gatehouse sends requests to.";
    }
    const sloProblem = idp.sloUrl ? urlProblem(idp.sloUrl, insecure) : undefined;
    if (sloProblem) fields[metadataXml ? "metadataXml" : "sloUrl"] = `The single logout URL ${sloProblem}.`;
    const responseProblem = idp.sloResponseUrl ? urlProblem(idp.sloResponseUrl, insecure) : undefined;
    if (responseProblem) {
      fields[metadataXml ? "metadataXml" : "sloUrl"] = `The single logout response URL ${responseProblem}.`;
    }
  }

  const attributes: SamlSettings["attributes"] = {};
  for (const [field, key] of [
    ["emailAttribute", "email"],
    ["nameAttribute", "name"],
    ["groupsAttribute", "groups"],
  ] as const) {
    const value = input[field];
    if (value === undefined || value === null || value === "") continue;
    if (typeof value !== "string" || value.length > 512 || /[\s<>]/.test(value)) {
      fields[field] = "Enter an attribute name as the IdP sends it (no spaces).";
    } else {
      attributes[key] = value;
    }
  }

  const allowIdpInitiated = input.allowIdpInitiated;
  if (allowIdpInitiated !== undefined && typeof allowIdpInitiated !== "boolean") {
    fields.allowIdpInitiated = "Must be true or false.";
  }

  if (Object.keys(fields).length > 0 || !idp) throw validationError(fields);
  return { idp, allowIdpInitiated: allowIdpInitiated === true, attributes };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function certificateList(value: unknown): string[] {
  if (typeof value === "string") {
    // Several PEM blocks pasted into one field are several certificates.
    const blocks = value.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
    return blocks ?? (value.trim() ? [value.trim()] : []);
  }
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string" && v.trim() !== "");
  return [];
}

function urlProblem(value: string, allowInsecure: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && allowInsecure) return undefined;
  return "must use https";
}
