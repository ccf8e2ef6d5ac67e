import { newId } from "../crypto/tokens.js";
import { ENTRA_ORIGIN } from "../domain/provider-claims.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { discoverIssuer, type ServerMetadata } from "../sso/oidc/discover.js";
import { findConnectionById, findConnectionByName } from "../store/connections.js";
import { connectionsListingDomain, findDomainOwnerOrganization } from "../store/domains.js";
import type { TokenEndpointAuthMethod } from "../store/schema.js";
import { type CredentialsCheck, checkCredentials } from "./credentials.js";
import { saveNewConnection } from "./save.js";
import { generateSigningKey } from "./signing-key.js";
import {
  type ConnectionInput,
  type FieldErrors,
  type ValidConnectionInput,
  validateConnectionInput,
} from "./validate.js";
import { type ConnectionView, callbackUrl, toConnectionView } from "./view.js";

export interface CreateConnectionRequest {
  organizationId: string;
  input: ConnectionInput;
  /** The admin creating it, whose own session survives the switch to SSO; null for API keys. */
  actorUserId: string | null;
  actorSessionHash?: string | undefined;
  ip?: string | undefined;
}

export interface CreatedConnection {
  connection: ConnectionView;
  /** Why the credentials could not be checked, when they could not. */
  credentialsNote?: string;
  /** Password and LinkedIn sessions ended because their users must now use SSO. */
  revokedSessions: number;
}

export const DEFAULT_SCOPES = "openid email profile";

/**
 * Creates an OIDC connection, checks in order: the fields, the name and domains against
 * every organization, then the issuer's discovery document. Only then, in one transaction:
 * the connection, its domains, the audit event, and the end of non-SSO sessions at its domains.
 */
export async function createConnection(
  ctx: AppContext,
  request: CreateConnectionRequest,
): Promise<CreatedConnection> {
  const { value, errors } = validateConnectionInput(request.input);
  if (Object.keys(errors).length > 0) throw fieldErrors(errors);
  const tenantsNeeded = tenantAllowListMissing(value.issuer, null, value.allowedTenants);
  if (tenantsNeeded) throw fieldErrors({ allowedTenants: tenantsNeeded });

  await refuseConflicts(ctx, request.organizationId, value);

  const metadata = await discoverIssuer(ctx, value.issuer, { fresh: true });
  const template = issuerTemplate(metadata.issuer, value.issuer);
  const templateNeedsTenants = tenantAllowListMissing(value.issuer, template, value.allowedTenants);
  if (templateNeedsTenants) throw fieldErrors({ allowedTenants: templateNeedsTenants });
  const id = newId();
  const credentials = await checkConnectionCredentials(ctx, metadata, value);

  const tokenEndpointAuthMethod = credentials.method;
  const signingKey = tokenEndpointAuthMethod === "private_key_jwt" ? await generateSigningKey() : undefined;
  const revokedSessions = await saveNewConnection(ctx, request, {
    connection: {
      id,
      organizationId: request.organizationId,
      name: value.name,
      domains: value.domains,
      createdByUserId: request.actorUserId,
      protocol: "oidc",
      oidc: {
        issuer: value.issuer,
        clientId: value.clientId,
        clientSecretSealed: ctx.box.seal(value.clientSecret, `connection:${id}`),
        tokenEndpointAuthMethod,
        scopes: [DEFAULT_SCOPES, ...value.extraScopes].join(" "),
        emailClaim: value.emailClaim,
        clockSkewSeconds: value.clockSkewSeconds,
        signingKeySealed: signingKey
          ? ctx.box.seal(JSON.stringify(signingKey.privateJwk), `connection-key:${id}`)
          : null,
        signingKid: signingKey?.kid ?? null,
        idTokenIssuer: template,
        allowedTenants: value.allowedTenants,
      },
      roles: { groupsClaim: value.groupsClaim, rules: value.roleRules, defaultRole: value.defaultRole },
    },
    auditDetail: (revokedSessions) => ({
      name: value.name,
      issuer: value.issuer,
      domains: value.domains,
      tokenEndpointAuthMethod: tokenEndpointAuthMethod ?? "auto",
      revokedSessions,
      ...(value.allowedTenants.length > 0 ? { allowedTenants: value.allowedTenants } : {}),
      ...(credentials.note ? { credentialsNote: credentials.note } : {}),
    }),
    takenMessage: "This name or one of the domains was just taken. Reload and try again.",
  });
  const created = await findConnectionById(ctx.store.db, id);
  if (!created) throw new GatehouseError("INTERNAL", "connection vanished after creation");
  return {
    connection: toConnectionView(ctx.config, created),
    revokedSessions,
    ...(credentials.note ? { credentialsNote: credentials.note } : {}),
  };
}

/** The name must be free everywhere, and each domain free of other organizations' claims and connections. */
export async function refuseConflicts(
  ctx: AppContext,
  organizationId: string,
  value: Pick<ValidConnectionInput, "name" | "domains">,
  /** The connection being edited: its own name and domains are no conflict. */
  selfId?: string,
): Promise<void> {
  const conflicts: FieldErrors = {};
  const named = await findConnectionByName(ctx.store.db, value.name);
  if (named && named.id !== selfId) {
    conflicts.name = `A connection named "${value.name}" already exists. Choose another name.`;
  }
  for (const domain of value.domains) {
    // Another organization's pending claim blocks nothing (anyone may claim anything pending);
    // a domain another organization has proven it owns cannot be used here.
    const owner = await findDomainOwnerOrganization(ctx.store.db, domain);
    if (owner && owner.organizationId !== organizationId) {
      conflicts.domains = `${domain} is verified by another organization.`;
      break;
    }
    const listing = await connectionsListingDomain(ctx.store.db, organizationId, domain);
    if (listing.some((c) => c.id !== selfId)) {
      conflicts.domains = `${domain} is already used by another connection of your organization.`;
      break;
    }
  }
  if (Object.keys(conflicts).length > 0) throw fieldErrors(conflicts, "CONFLICT");
}

/**
 * The token endpoint authentication to store, checked against what the provider advertises
 * and then against the provider itself (credentials.ts).
 */
export async function checkConnectionCredentials(
  ctx: AppContext,
  metadata: ServerMetadata,
  value: Pick<ValidConnectionInput, "clientId" | "clientSecret" | "tokenEndpointAuthMethod">,
  existingSecret?: () => string,
): Promise<CredentialsCheck> {
  const supported = metadata.token_endpoint_auth_methods_supported;
  if (value.tokenEndpointAuthMethod === "auto") {
    if (!chooseTokenEndpointAuthMethod(supported)) {
      throw fieldErrors({
        issuer: `The provider supports neither client_secret_basic nor client_secret_post at its token endpoint (it lists ${JSON.stringify(supported)}). Choose private_key_jwt under Advanced settings.`,
      });
    }
  } else {
    // OIDC Discovery 1.0 §3: an absent list means client_secret_basic only.
    const listed = Array.isArray(supported) ? supported : ["client_secret_basic"];
    if (!listed.includes(value.tokenEndpointAuthMethod)) {
      throw fieldErrors({
        tokenEndpointAuthMethod: `The provider does not support ${value.tokenEndpointAuthMethod} (it lists ${JSON.stringify(listed)}).`,
      });
    }
  }
  const secret = value.clientSecret || existingSecret?.() || "";
  if (!secret && value.tokenEndpointAuthMethod !== "private_key_jwt") {
    throw fieldErrors({ clientSecret: "Enter the Client secret from your identity provider's application." });
  }
  return checkCredentials(
    ctx,
    metadata,
    {
      clientId: value.clientId,
      clientSecret: () => secret,
      redirectUri: callbackUrl(ctx.config),
    },
    value.tokenEndpointAuthMethod,
  );
}

/**
 * Entra ID's multi-tenant issuers (`/common`, `/organizations`) publish a template issuer,
 * `https://login.microsoftonline.com/{tenantid}/v2.0`; ID tokens then carry the user's tenant.
 * The template is kept so the callback can check `iss` against it with the token's `tid`.
 */
export function issuerTemplate(published: string, entered: string): string | null {
  return published !== entered && published.includes("{tenantid}") ? published : null;
}

/**
 * A multi-tenant issuer signs in any tenant's accounts, an attacker's own and personal Microsoft
 * accounts included, so it needs the list of tenants it may sign in from: Entra's `/common`,
 * `/organizations` and `/consumers` by their URL (before anything is fetched), and any issuer
 * whose discovery document publishes a `{tenantid}` template. Returns the field's message.
 */
export function tenantAllowListMissing(
  issuer: string,
  template: string | null,
  allowedTenants: readonly string[],
): string | undefined {
  if (allowedTenants.length > 0) return undefined;
  let multiTenant = template !== null;
  try {
    const url = new URL(issuer);
    const segment = url.pathname.split("/")[1]?.toLowerCase();
    if (url.origin === ENTRA_ORIGIN && ["common", "organizations", "consumers"].includes(segment ?? ""))
      multiTenant = true;
  } catch {
    // The issuer field reports a URL that does not parse.
  }
  return multiTenant
    ? "This issuer signs in accounts of any Microsoft Entra tenant. List the Directory (tenant) IDs this connection may sign in from, or use your tenant's own issuer (https://login.microsoftonline.com/<tenant id>/v2.0)."
    : undefined;
}

export function chooseTokenEndpointAuthMethod(supported: unknown): TokenEndpointAuthMethod | undefined {
  // OIDC Discovery 1.0 §3: when absent, the default is client_secret_basic.
  if (!Array.isArray(supported)) return "client_secret_basic";
  if (supported.includes("client_secret_basic")) return "client_secret_basic";
  if (supported.includes("client_secret_post")) return "client_secret_post";
  return undefined;
}

export function fieldErrors(
  errors: FieldErrors,
  code: "VALIDATION_FAILED" | "CONFLICT" = "VALIDATION_FAILED",
): GatehouseError {
  const fields = Object.fromEntries(Object.entries(errors).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  return new GatehouseError(
    code,
    code === "CONFLICT" ? "The name or a domain is already in use." : "Some fields need attention.",
    { fields },
  );
}
