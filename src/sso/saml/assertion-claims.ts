import { normalizeEmail } from "../../domain/email.js";
import { NAMEID_FORMAT } from "./xml.js";

/**
 * Email, name and groups from a verified assertion's NameID and attributes. Pure: the same
 * input always gives the same claims, tested with tables of what real IdPs send.
 */

/** Names are kept to this many characters, as the OpenID Connect adapter keeps its name claims. */
const MAX_NAME_LENGTH = 200;

/** Attribute names that carry the email, in the order they are tried (after the configured one). */
export const EMAIL_ATTRIBUTES = [
  "email",
  "mail",
  "emailAddress",
  "Email",
  "EmailAddress",
  "urn:oid:0.9.2342.19200300.100.1.3", // eduPerson / LDAP `mail` (Shibboleth, Google)
  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", // ADFS, Entra ID
  "http://schemas.microsoft.com/identity/claims/emailaddress",
] as const;

export const NAME_ATTRIBUTES = [
  "name",
  "displayName",
  "displayname",
  "urn:oid:2.16.840.1.113730.3.1.241", // displayName
  "http://schemas.microsoft.com/identity/claims/displayname", // Entra ID
  "cn",
  "urn:oid:2.5.4.3",
] as const;

const GIVEN_NAME_ATTRIBUTES = [
  "firstName",
  "givenName",
  "given_name",
  "urn:oid:2.5.4.42",
  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
] as const;

const FAMILY_NAME_ATTRIBUTES = [
  "lastName",
  "sn",
  "surname",
  "family_name",
  "urn:oid:2.5.4.4",
  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
] as const;

export const GROUP_ATTRIBUTES = [
  "groups",
  "Groups",
  "memberOf",
  "urn:oid:1.3.6.1.4.1.5923.1.5.1.1", // isMemberOf
  "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", // Entra ID
  "http://schemas.xmlsoap.org/claims/Group", // ADFS
  "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
] as const;

/** Attributes by Name and by FriendlyName; every value an attribute has, in document order. */
export type AssertionAttributes = ReadonlyMap<string, readonly string[]>;

export interface ClaimsInput {
  nameId: string;
  nameIdFormat: string | undefined;
  attributes: AssertionAttributes;
  configured: { email?: string; name?: string; groups?: string };
}

export interface AssertionClaims {
  email: string | undefined;
  name: string | undefined;
  /** The first non-empty value of a given-name attribute (firstName, givenName, ...). */
  givenName: string | undefined;
  /** The first non-empty value of a family-name attribute (lastName, sn, surname, ...). */
  familyName: string | undefined;
  groups: string[];
}

export function readClaims(input: ClaimsInput): AssertionClaims {
  const { attributes, configured } = input;
  const givenName = firstValue(attributes, GIVEN_NAME_ATTRIBUTES);
  const familyName = firstValue(attributes, FAMILY_NAME_ATTRIBUTES);
  return {
    email: readEmail(input),
    name: readName(attributes, configured.name, givenName, familyName),
    givenName,
    familyName,
    groups: readGroups(attributes, configured.groups),
  };
}

function readEmail({ nameId, nameIdFormat, attributes, configured }: ClaimsInput): string | undefined {
  // A configured attribute is what the admin told us the IdP sends: it is the only source then.
  if (configured.email) return firstEmail(attributes.get(configured.email));
  if (nameIdFormat === NAMEID_FORMAT.emailAddress) {
    const email = normalizeEmail(nameId);
    if (email) return email;
  }
  for (const name of EMAIL_ATTRIBUTES) {
    const email = firstEmail(attributes.get(name));
    if (email) return email;
  }
  // Many IdPs send the email as an unspecified-format NameID (Google Workspace, ADFS defaults).
  if (nameIdFormat === undefined || nameIdFormat === NAMEID_FORMAT.unspecified) return normalizeEmail(nameId);
  return undefined;
}

function firstEmail(values: readonly string[] | undefined): string | undefined {
  for (const value of values ?? []) {
    const email = normalizeEmail(value);
    if (email) return email;
  }
  return undefined;
}

function readName(
  attributes: AssertionAttributes,
  configured: string | undefined,
  given: string | undefined,
  family: string | undefined,
): string | undefined {
  const value = firstValue(attributes, configured ? [configured] : NAME_ATTRIBUTES);
  if (value || configured) return value;
  const joined = [given, family].filter(Boolean).join(" ");
  return joined ? joined.slice(0, MAX_NAME_LENGTH) : undefined;
}

function firstValue(attributes: AssertionAttributes, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = attributes.get(name)?.find((v) => v.trim() !== "");
    if (value) return value.trim().slice(0, MAX_NAME_LENGTH);
  }
  return undefined;
}

/** Every value of every group attribute, once each: multi-valued and repeated attributes alike. */
function readGroups(attributes: AssertionAttributes, configured: string | undefined): string[] {
  const names = configured ? [configured] : GROUP_ATTRIBUTES;
  const groups = new Set<string>();
  for (const name of names) {
    for (const value of attributes.get(name) ?? []) {
      const group = value.trim();
      if (group) groups.add(group);
    }
  }
  return [...groups];
}
