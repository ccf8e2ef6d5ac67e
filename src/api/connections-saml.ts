import { Type } from "typebox";
import { SAML_FIELDS, type SamlConnectionInput } from "../connections/saml-validate.js";
import { validationError } from "../errors.js";
import { StringEnum } from "./schemas.js";

/**
 * The SAML side of `/api/v1/connections`: the request properties of a SAML connection, and how
 * a request becomes the service's input. The IdP's settings are given one way: `metadataUrl`,
 * `metadataXml`, or `entityId` + `ssoUrl` + `certificates` (+ `sloUrl`).
 */

const attribute = (what: string) =>
  Type.Optional(
    Type.String({
      maxLength: 512,
      description: `The attribute holding the ${what}, when the IdP uses a name Gatehouse does not already read`,
    }),
  );

export const samlRequestProperties = {
  metadataUrl: Type.Optional(
    Type.String({
      maxLength: 2000,
      description:
        "The IdP's metadata URL; downloaded once through Gatehouse's outbound guard (https only unless GATEHOUSE_ALLOW_PRIVATE_ISSUERS, 512 KiB at most, no redirects)",
      examples: ["https://adfs.acme.com/FederationMetadata/2007-06/FederationMetadata.xml"],
    }),
  ),
  metadataXml: Type.Optional(
    Type.String({ maxLength: 600_000, description: "The IdP's metadata document (512 KiB at most)" }),
  ),
  entityId: Type.Optional(
    Type.String({
      maxLength: 2000,
      description: "By hand: the IdP's entity ID (the Issuer of its assertions)",
    }),
  ),
  ssoUrl: Type.Optional(
    Type.String({ maxLength: 2000, description: "By hand: the IdP's single sign-on URL (HTTP-Redirect)" }),
  ),
  sloUrl: Type.Optional(
    Type.String({ maxLength: 2000, description: "By hand: the IdP's single logout URL, if it has one" }),
  ),
  certificates: Type.Optional(
    Type.Array(Type.String({ maxLength: 20_000 }), {
      maxItems: 10,
      description: "By hand: the IdP's signing certificates, PEM or bare base64; RSA of at least 2048 bits",
      errorMessage: 'Must be an array of certificates, such as ["-----BEGIN CERTIFICATE-----…"].',
    }),
  ),
  allowIdpInitiated: Type.Optional(
    Type.Boolean({
      default: false,
      description: "Accept IdP-initiated (unsolicited) sign-in, protected by one-time assertion IDs only",
      errorMessage: "Must be true or false.",
    }),
  ),
  emailAttribute: attribute("email address"),
  nameAttribute: attribute("display name"),
  groupsAttribute: attribute("groups (every value counts, for roleRules)"),
};

/** The request's SAML properties as the service's input; `idp` only when the request gave any. */
export function samlInputOfRequest(body: {
  metadataUrl?: string | undefined;
  metadataXml?: string | undefined;
  entityId?: string | undefined;
  ssoUrl?: string | undefined;
  sloUrl?: string | undefined;
  certificates?: string[] | undefined;
  allowIdpInitiated?: boolean | undefined;
  emailAttribute?: string | undefined;
  nameAttribute?: string | undefined;
  groupsAttribute?: string | undefined;
}): Omit<SamlConnectionInput, "name" | "domains" | "idp"> & { idp?: SamlConnectionInput["idp"] } {
  const idpGiven = [
    body.metadataUrl,
    body.metadataXml,
    body.entityId,
    body.ssoUrl,
    body.sloUrl,
    body.certificates,
  ].some((v) => v !== undefined);
  return {
    ...(idpGiven
      ? {
          idp: {
            metadataUrl: body.metadataUrl,
            metadataXml: body.metadataXml,
            entityId: body.entityId,
            ssoUrl: body.ssoUrl,
            sloUrl: body.sloUrl,
            certificates: body.certificates,
          },
        }
      : {}),
    allowIdpInitiated: body.allowIdpInitiated,
    emailAttribute: body.emailAttribute,
    nameAttribute: body.nameAttribute,
    groupsAttribute: body.groupsAttribute,
  };
}

/** An edit names only fields of the connection's own protocol. */
export function refuseOtherProtocolFields(body: object, allowed: readonly string[], protocol: string): void {
  const foreign = Object.keys(body).filter((k) => !allowed.includes(k));
  if (foreign.length === 0) return;
  throw validationError(
    Object.fromEntries(foreign.map((k) => [k, `Not a setting of ${protocol} connections.`])),
    `Some fields are not settings of ${protocol} connections.`,
  );
}

export const SAML_PATCH_FIELDS = [
  "name",
  "domains",
  "roleRules",
  "defaultRole",
  ...Object.keys(samlRequestProperties),
] as const;

export const SamlChangedField = StringEnum(SAML_FIELDS);
