import { type Config, urlFor } from "../config.js";
import type { Connection } from "../store/connections.js";

/** A connection as the API and the admin console show it: never the client secret. */
export interface ConnectionView {
  id: string;
  type: "oidc";
  name: string;
  status: "enabled" | "disabled";
  issuer: string;
  clientId: string;
  /** Always masked. */
  clientSecret: "********";
  domains: string[];
  tokenEndpointAuthMethod: string;
  scopes: string[];
  callbackUrl: string;
  createdAt: string;
  updatedAt: string;
}

export function toConnectionView(config: Pick<Config, "baseUrl">, c: Connection): ConnectionView {
  return {
    id: c.id,
    type: c.type,
    name: c.name,
    status: c.status,
    issuer: c.issuer,
    clientId: c.clientId,
    clientSecret: "********",
    domains: c.domains,
    tokenEndpointAuthMethod: c.tokenEndpointAuthMethod ?? "client_secret_basic",
    scopes: c.scopes.split(" ").filter(Boolean),
    callbackUrl: callbackUrl(config),
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

export function callbackUrl(config: Pick<Config, "baseUrl">): string {
  return urlFor(config, "sso/oidc/callback");
}

export function homePageUrl(config: Pick<Config, "baseUrl">): string {
  return config.baseUrl.toString();
}
