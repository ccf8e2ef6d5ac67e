/**
 * The SAML 2.0 settings of a connection (`connection_saml`): how connections.ts joins, reads,
 * inserts and changes them, in the same four parts as connection-oidc.ts. The SP private key
 * stays sealed here; src/sso/saml/stored-settings.ts opens it when a flow needs it.
 */
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** A SAML connection's settings as stored: the IdP's side, the attribute names, our key pair. */
export interface SamlConnectionSettings {
  /** The IdP's entity ID: the exact `Issuer` of its assertions. */
  entityId: string;
  /** Its SingleSignOnService for the HTTP-Redirect binding. */
  ssoUrl: string;
  /** Its SingleLogoutService (HTTP-Redirect), when the metadata lists one. */
  sloUrl: string | null;
  /** Where logout responses go when the metadata says (`ResponseLocation`); else `sloUrl`. */
  sloResponseUrl: string | null;
  /** PEM certificates; a signature by any one is accepted (several during a rollover). */
  signingCertificates: string[];
  wantAuthnRequestsSigned: boolean;
  /** IdP-initiated (unsolicited) responses are refused unless this is on. */
  allowIdpInitiated: boolean;
  emailAttribute: string | null;
  nameAttribute: string | null;
  groupsAttribute: string | null;
  /** Where the admin said the metadata lives, when they gave a URL rather than the XML. */
  metadataUrl: string | null;
  /** PKCS#8 PEM, sealed with the secret box (context `connection-saml-key:<connection id>`). */
  spPrivateKeySealed: string;
  /** X.509 PEM, published in the SP metadata for request signing and assertion encryption. */
  spCertificate: string;
}

/** What a new connection must state; the switches and names default to off and unset. */
export type NewSamlSettings = Pick<
  SamlConnectionSettings,
  "entityId" | "ssoUrl" | "signingCertificates" | "spPrivateKeySealed" | "spCertificate"
> &
  Partial<
    Omit<
      SamlConnectionSettings,
      "entityId" | "ssoUrl" | "signingCertificates" | "spPrivateKeySealed" | "spCertificate"
    >
  >;

/** The columns a connection query selects from the left-joined `connection_saml`, prefixed `saml_`. */
export const SAML_SELECTION = [
  "connection_saml.idp_entity_id as saml_idp_entity_id",
  "connection_saml.sso_url as saml_sso_url",
  "connection_saml.slo_url as saml_slo_url",
  "connection_saml.slo_response_url as saml_slo_response_url",
  "connection_saml.signing_certificates as saml_signing_certificates",
  "connection_saml.want_authn_requests_signed as saml_want_authn_requests_signed",
  "connection_saml.allow_idp_initiated as saml_allow_idp_initiated",
  "connection_saml.email_attribute as saml_email_attribute",
  "connection_saml.name_attribute as saml_name_attribute",
  "connection_saml.groups_attribute as saml_groups_attribute",
  "connection_saml.metadata_url as saml_metadata_url",
  "connection_saml.sp_private_key_sealed as saml_sp_private_key_sealed",
  "connection_saml.sp_certificate as saml_sp_certificate",
] as const;

/** The selected columns as a row holds them (null when the connection is of another protocol). */
export interface SamlColumns {
  saml_idp_entity_id: string | null;
  saml_sso_url: string | null;
  saml_slo_url: string | null;
  saml_slo_response_url: string | null;
  saml_signing_certificates: string | null;
  saml_want_authn_requests_signed: number | null;
  saml_allow_idp_initiated: number | null;
  saml_email_attribute: string | null;
  saml_name_attribute: string | null;
  saml_groups_attribute: string | null;
  saml_metadata_url: string | null;
  saml_sp_private_key_sealed: string | null;
  saml_sp_certificate: string | null;
}

/** The settings of a row whose protocol is `saml`; every such row has its settings row (same transaction). */
export function readSamlSettings(row: SamlColumns): SamlConnectionSettings {
  return {
    entityId: row.saml_idp_entity_id ?? "",
    ssoUrl: row.saml_sso_url ?? "",
    sloUrl: row.saml_slo_url,
    sloResponseUrl: row.saml_slo_response_url,
    signingCertificates: readCertificates(row.saml_signing_certificates),
    wantAuthnRequestsSigned: Number(row.saml_want_authn_requests_signed) === 1,
    allowIdpInitiated: Number(row.saml_allow_idp_initiated) === 1,
    emailAttribute: row.saml_email_attribute,
    nameAttribute: row.saml_name_attribute,
    groupsAttribute: row.saml_groups_attribute,
    metadataUrl: row.saml_metadata_url,
    spPrivateKeySealed: row.saml_sp_private_key_sealed ?? "",
    spCertificate: row.saml_sp_certificate ?? "",
  };
}

/** Inserts a connection's SAML settings; call in the transaction that inserts the connection. */
export async function insertSamlSettings(
  db: Kysely<Database>,
  connectionId: string,
  s: NewSamlSettings,
): Promise<void> {
  await db
    .insertInto("connection_saml")
    .values({
      connection_id: connectionId,
      idp_entity_id: s.entityId,
      sso_url: s.ssoUrl,
      slo_url: s.sloUrl ?? null,
      slo_response_url: s.sloResponseUrl ?? null,
      signing_certificates: JSON.stringify(s.signingCertificates),
      want_authn_requests_signed: s.wantAuthnRequestsSigned ? 1 : 0,
      allow_idp_initiated: s.allowIdpInitiated ? 1 : 0,
      email_attribute: s.emailAttribute ?? null,
      name_attribute: s.nameAttribute ?? null,
      groups_attribute: s.groupsAttribute ?? null,
      metadata_url: s.metadataUrl ?? null,
      sp_private_key_sealed: s.spPrivateKeySealed,
      sp_certificate: s.spCertificate,
    })
    .execute();
}

/** Applies the changed settings; the caller has already claimed the edit on `connections`. */
export async function updateSamlSettings(
  db: Kysely<Database>,
  connectionId: string,
  c: Partial<SamlConnectionSettings>,
): Promise<void> {
  const set = {
    ...(c.entityId !== undefined ? { idp_entity_id: c.entityId } : {}),
    ...(c.ssoUrl !== undefined ? { sso_url: c.ssoUrl } : {}),
    ...(c.sloUrl !== undefined ? { slo_url: c.sloUrl } : {}),
    ...(c.sloResponseUrl !== undefined ? { slo_response_url: c.sloResponseUrl } : {}),
    ...(c.signingCertificates !== undefined
      ? { signing_certificates: JSON.stringify(c.signingCertificates) }
      : {}),
    ...(c.wantAuthnRequestsSigned !== undefined
      ? { want_authn_requests_signed: c.wantAuthnRequestsSigned ? 1 : 0 }
      : {}),
    ...(c.allowIdpInitiated !== undefined ? { allow_idp_initiated: c.allowIdpInitiated ? 1 : 0 } : {}),
    ...(c.emailAttribute !== undefined ? { email_attribute: c.emailAttribute } : {}),
    ...(c.nameAttribute !== undefined ? { name_attribute: c.nameAttribute } : {}),
    ...(c.groupsAttribute !== undefined ? { groups_attribute: c.groupsAttribute } : {}),
    ...(c.metadataUrl !== undefined ? { metadata_url: c.metadataUrl } : {}),
    ...(c.spPrivateKeySealed !== undefined ? { sp_private_key_sealed: c.spPrivateKeySealed } : {}),
    ...(c.spCertificate !== undefined ? { sp_certificate: c.spCertificate } : {}),
  };
  if (Object.keys(set).length === 0) return;
  await db.updateTable("connection_saml").set(set).where("connection_id", "=", connectionId).execute();
}

/** A connection's SAML settings on their own (the joined read in connections.ts is the usual way). */
export async function findSamlSettings(
  db: Kysely<Database>,
  connectionId: string,
): Promise<SamlConnectionSettings | undefined> {
  const row = await db
    .selectFrom("connection_saml")
    .select(SAML_SELECTION)
    .where("connection_saml.connection_id", "=", connectionId)
    .executeTakeFirst();
  return row ? readSamlSettings(row) : undefined;
}

function readCertificates(json: string | null): string[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((c): c is string => typeof c === "string") : [];
  } catch {
    return [];
  }
}
