import { type Config, urlFor } from "../config.js";
import { serviceProviderUrls } from "../sso/saml/service-provider.js";
import type { Connection, OidcConnection, SamlConnection } from "../store/connections.js";

/**
 * A connection as the API and the admin console show it, told apart by `type` (the protocol):
 * never a secret. A protocol adds its view here and a case in `toConnectionView`.
 */
export type ConnectionView = OidcConnectionView | SamlConnectionView;

export interface OidcConnectionView {
  id: string;
  type: "oidc";
  name: string;
  status: "enabled" | "disabled";
  issuer: string;
  clientId: string;
  /** Always masked. */
  clientSecret: "********";
  domains: string[];
  tokenEndpointAuthMethod: "auto" | "client_secret_basic" | "client_secret_post" | "private_key_jwt";
  scopes: string[];
  emailClaim: string;
  clockSkewSeconds: number;
  allowedTenants: string[];
  groupsClaim: string;
  roleRules: { group: string; role: "admin" | "member" }[];
  defaultRole: "admin" | "member";
  /** Where the IdP fetches the public key for `private_key_jwt`; null for client secrets. */
  jwksUrl: string | null;
  callbackUrl: string;
  createdAt: string;
  updatedAt: string;
}

/** A SAML connection: the IdP's side as configured, and what its admin copies into the IdP. */
export interface SamlConnectionView {
  id: string;
  type: "saml";
  name: string;
  status: "enabled" | "disabled";
  domains: string[];
  /** The IdP's entity ID (the Issuer of its assertions). */
  idpEntityId: string;
  ssoUrl: string;
  sloUrl: string | null;
  /** PEM; public by nature. */
  signingCertificates: string[];
  metadataUrl: string | null;
  allowIdpInitiated: boolean;
  emailAttribute: string | null;
  nameAttribute: string | null;
  groupsAttribute: string | null;
  groupsClaim: string;
  roleRules: { group: string; role: "admin" | "member" }[];
  defaultRole: "admin" | "member";
  /** SP Entity ID (Audience URI), also the SP metadata URL. */
  spEntityId: string;
  spMetadataUrl: string;
  acsUrl: string;
  spSloUrl: string;
  /** The connection's own certificate (AuthnRequest signing, assertion encryption). */
  spCertificate: string;
  createdAt: string;
  updatedAt: string;
}

export function toConnectionView(config: Pick<Config, "baseUrl">, c: Connection): ConnectionView {
  switch (c.protocol) {
    case "oidc":
      return toOidcConnectionView(config, c);
    case "saml":
      return toSamlConnectionView(config, c);
  }
}

function toSamlConnectionView(config: Pick<Config, "baseUrl">, c: SamlConnection): SamlConnectionView {
  const { saml } = c;
  const sp = serviceProviderUrls(config.baseUrl.toString(), c.id);
  return {
    id: c.id,
    type: c.protocol,
    name: c.name,
    status: c.status,
    domains: c.domains,
    idpEntityId: saml.entityId,
    ssoUrl: saml.ssoUrl,
    sloUrl: saml.sloUrl,
    signingCertificates: saml.signingCertificates,
    metadataUrl: saml.metadataUrl,
    allowIdpInitiated: saml.allowIdpInitiated,
    emailAttribute: saml.emailAttribute,
    nameAttribute: saml.nameAttribute,
    groupsAttribute: saml.groupsAttribute,
    groupsClaim: c.roles.groupsClaim,
    roleRules: c.roles.rules.map((r) => ({ ...r })),
    defaultRole: c.roles.defaultRole,
    spEntityId: sp.entityId,
    spMetadataUrl: sp.entityId,
    acsUrl: sp.acsUrl,
    spSloUrl: sp.sloUrl,
    spCertificate: saml.spCertificate,
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

/** Who the connection trusts, in one line (the CLI's listing, the audit of a deletion). */
export function identityProviderOf(c: Connection): string {
  switch (c.protocol) {
    case "oidc":
      return c.oidc.issuer;
    case "saml":
      return c.saml.entityId;
  }
}

export function toOidcConnectionView(config: Pick<Config, "baseUrl">, c: OidcConnection): OidcConnectionView {
  const { oidc } = c;
  return {
    id: c.id,
    type: c.protocol,
    name: c.name,
    status: c.status,
    issuer: oidc.issuer,
    clientId: oidc.clientId,
    clientSecret: "********",
    domains: c.domains,
    tokenEndpointAuthMethod: oidc.tokenEndpointAuthMethod ?? "auto",
    scopes: oidc.scopes.split(" ").filter(Boolean),
    emailClaim: oidc.emailClaim,
    clockSkewSeconds: oidc.clockSkewSeconds,
    allowedTenants: oidc.allowedTenants,
    groupsClaim: c.roles.groupsClaim,
    roleRules: c.roles.rules.map((r) => ({ ...r })),
    defaultRole: c.roles.defaultRole,
    jwksUrl: oidc.signingKid ? connectionJwksUrl(config, c.id) : null,
    callbackUrl: callbackUrl(config),
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

/** The public keys of a connection's `private_key_jwt` client assertions. */
export function connectionJwksUrl(config: Pick<Config, "baseUrl">, connectionId: string): string {
  return urlFor(config, `sso/oidc/connections/${connectionId}/jwks.json`);
}

export function callbackUrl(config: Pick<Config, "baseUrl">): string {
  return urlFor(config, "sso/oidc/callback");
}

export function homePageUrl(config: Pick<Config, "baseUrl">): string {
  return config.baseUrl.toString();
}
