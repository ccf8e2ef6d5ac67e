import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { forgetConfiguration } from "../sso/oidc/client.js";
import { discoverIssuer } from "../sso/oidc/discover.js";
import {
  type ConnectionChanges,
  findConnection,
  findConnectionById,
  type OidcConnection,
  type OidcSettings,
} from "../store/connections.js";
import type { TokenEndpointAuthMethod } from "../store/schema.js";
import {
  checkConnectionCredentials,
  DEFAULT_SCOPES,
  fieldErrors,
  issuerTemplate,
  refuseConflicts,
  tenantAllowListMissing,
} from "./create.js";
import type { CredentialsCheck } from "./credentials.js";
import type { ConnectionActor } from "./delete.js";
import { saveConnectionEdit } from "./save.js";
import { generateSigningKey } from "./signing-key.js";
import {
  CONNECTION_FIELDS,
  type ConnectionInput,
  type TokenEndpointAuthMethodChoice,
  type ValidConnectionInput,
  validateConnectionInput,
} from "./validate.js";
import { type ConnectionView, toConnectionView } from "./view.js";

/** What an edit sends: any of the fields; an absent or blank client secret keeps the stored one. */
export type ConnectionPatch = Partial<ConnectionInput>;

export type ConnectionField = keyof ConnectionInput;

export interface UpdatedConnection {
  connection: ConnectionView;
  /** The fields whose value changed, in form order; empty when the edit changed nothing. */
  changed: ConnectionField[];
  /** Why the new credentials could not be checked, when they could not. */
  credentialsNote?: string;
  /** Password and LinkedIn sessions ended because a domain added to an enabled connection now enforces SSO. */
  revokedSessions: number;
}

/** The connection's settings as the fields of the form that created it; the secret stays sealed. */
export function connectionInputOf(c: OidcConnection): ConnectionInput {
  const base = new Set(DEFAULT_SCOPES.split(" "));
  return {
    name: c.name,
    issuer: c.oidc.issuer,
    clientId: c.oidc.clientId,
    clientSecret: "",
    domains: c.domains,
    tokenEndpointAuthMethod: c.oidc.tokenEndpointAuthMethod ?? "auto",
    extraScopes: c.oidc.scopes.split(" ").filter((s) => s && !base.has(s)),
    emailClaim: c.oidc.emailClaim,
    clockSkewSeconds: c.oidc.clockSkewSeconds,
    allowedTenants: c.oidc.allowedTenants,
    groupsClaim: c.roles.groupsClaim,
    roleRules: [...c.roles.rules],
    defaultRole: c.roles.defaultRole,
  };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/** Which fields the edit changes. Pure; the secret counts only when a new, different one is given. */
export function changedFields(
  current: ConnectionInput,
  next: ValidConnectionInput,
  secretDiffers: boolean,
): ConnectionField[] {
  const differs: Record<ConnectionField, boolean> = {
    name: next.name !== current.name,
    issuer: next.issuer !== current.issuer,
    clientId: next.clientId !== current.clientId,
    clientSecret: secretDiffers,
    domains: !sameSet(next.domains, current.domains),
    tokenEndpointAuthMethod: next.tokenEndpointAuthMethod !== (current.tokenEndpointAuthMethod ?? "auto"),
    extraScopes: !sameSet(next.extraScopes, current.extraScopes ?? []),
    emailClaim: next.emailClaim !== current.emailClaim,
    clockSkewSeconds: next.clockSkewSeconds !== current.clockSkewSeconds,
    allowedTenants: !sameSet(next.allowedTenants, current.allowedTenants ?? []),
    groupsClaim: next.groupsClaim !== (current.groupsClaim ?? "groups"),
    roleRules: JSON.stringify(next.roleRules) !== JSON.stringify(current.roleRules ?? []),
    defaultRole: next.defaultRole !== (current.defaultRole ?? "member"),
  };
  return CONNECTION_FIELDS.filter((f) => differs[f]);
}

/** A change to any of these sends Gatehouse back to the provider: discovery, then the credentials check. */
const PROVIDER_FIELDS: readonly ConnectionField[] = [
  "issuer",
  "clientId",
  "clientSecret",
  "tokenEndpointAuthMethod",
];

function notFound(): GatehouseError {
  return new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
}

/**
 * An edit checked as Save checks it, nothing written: what `updateConnection` saves and what a
 * test sign-in of the edit's values runs with.
 */
export interface CheckedEdit {
  existing: OidcConnection;
  current: ConnectionInput;
  value: ValidConnectionInput;
  changed: ConnectionField[];
  secretDiffers: boolean;
  /** Present when the edit sent Gatehouse back to the provider (see PROVIDER_FIELDS). */
  provider?: { credentials: CredentialsCheck; idTokenIssuer: string | null };
  storedSecret: () => string;
}

/**
 * The checks Create makes, in the same order: the fields, the name and domains against every
 * organization, then — when the issuer or the credentials change — discovery and the
 * credentials check at the token endpoint, so a wrong new secret is refused beside its field.
 */
export async function checkConnectionEdit(
  ctx: AppContext,
  organizationId: string,
  id: string,
  patch: ConnectionPatch,
): Promise<CheckedEdit> {
  const existing = await findConnection(ctx.store.db, organizationId, id);
  if (existing?.protocol !== "oidc") throw notFound();
  const current = connectionInputOf(existing);
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const { value, errors } = validateConnectionInput(
    { ...current, ...defined, clientSecret: patch.clientSecret ?? "" },
    { secretRequired: false },
  );
  const storedSecret = () => ctx.box.open(existing.oidc.clientSecretSealed, `connection:${existing.id}`);
  // Leaving private_key_jwt for a client secret needs one, when the connection never had one.
  if (
    !errors.clientSecret &&
    !value.clientSecret &&
    value.tokenEndpointAuthMethod !== "private_key_jwt" &&
    existing.oidc.tokenEndpointAuthMethod === "private_key_jwt" &&
    storedSecret() === ""
  ) {
    errors.clientSecret = "Enter the Client secret from your identity provider's application.";
  }
  if (Object.keys(errors).length > 0) throw fieldErrors(errors);

  const secretDiffers = value.clientSecret !== "" && value.clientSecret !== storedSecret();
  const changed = changedFields(current, value, secretDiffers);
  const checked: CheckedEdit = { existing, current, value, changed, secretDiffers, storedSecret };
  if (changed.length === 0) return checked;
  if (changed.includes("name") || changed.includes("domains")) {
    await refuseConflicts(ctx, organizationId, value, existing.id);
  }
  if (changed.some((f) => PROVIDER_FIELDS.includes(f))) {
    const tenantsNeeded = tenantAllowListMissing(value.issuer, null, value.allowedTenants);
    if (tenantsNeeded) throw fieldErrors({ allowedTenants: tenantsNeeded });
    const metadata = await discoverIssuer(ctx, value.issuer, { fresh: true });
    const template = issuerTemplate(metadata.issuer, value.issuer);
    const templateNeedsTenants = tenantAllowListMissing(value.issuer, template, value.allowedTenants);
    if (templateNeedsTenants) throw fieldErrors({ allowedTenants: templateNeedsTenants });
    // An unchanged method is chosen again for the new provider or credentials, as at Create with
    // `auto`; the one the admin picks now is held to.
    const choice: TokenEndpointAuthMethodChoice = changed.includes("tokenEndpointAuthMethod")
      ? value.tokenEndpointAuthMethod
      : existing.oidc.tokenEndpointAuthMethod === "private_key_jwt"
        ? "private_key_jwt"
        : "auto";
    const credentials = await checkConnectionCredentials(
      ctx,
      metadata,
      { ...value, tokenEndpointAuthMethod: choice },
      storedSecret,
    );
    checked.provider = { credentials, idTokenIssuer: template };
  } else if (changed.includes("allowedTenants")) {
    const needed = tenantAllowListMissing(value.issuer, existing.oidc.idTokenIssuer, value.allowedTenants);
    if (needed) throw fieldErrors({ allowedTenants: needed });
  }
  return checked;
}

/**
 * Edits a connection: the checks of `checkConnectionEdit`, then in one transaction the
 * settings, the domains, the end of non-SSO sessions at domains that start enforcing, and
 * `connection.updated` with the names of the changed fields (never a secret).
 */
export async function updateConnection(
  ctx: AppContext,
  actor: ConnectionActor,
  id: string,
  patch: ConnectionPatch,
): Promise<UpdatedConnection> {
  const { existing, value, changed, secretDiffers, provider } = await checkConnectionEdit(
    ctx,
    actor.organizationId,
    id,
    patch,
  );
  if (changed.length === 0) {
    return { connection: toConnectionView(ctx.config, existing), changed, revokedSessions: 0 };
  }
  const settings: ConnectionChanges = {};
  const oidc: Partial<OidcSettings> = {};
  const credentials = provider?.credentials;
  if (provider) {
    oidc.issuer = value.issuer;
    oidc.clientId = value.clientId;
    oidc.idTokenIssuer = provider.idTokenIssuer;
    oidc.tokenEndpointAuthMethod = provider.credentials.method;
    Object.assign(oidc, await signingKeyFor(ctx, existing, provider.credentials.method));
    if (secretDiffers) oidc.clientSecretSealed = ctx.box.seal(value.clientSecret, `connection:${id}`);
  }
  if (changed.includes("name")) settings.name = value.name;
  if (changed.includes("extraScopes")) oidc.scopes = [DEFAULT_SCOPES, ...value.extraScopes].join(" ");
  if (changed.includes("emailClaim")) oidc.emailClaim = value.emailClaim;
  if (changed.includes("clockSkewSeconds")) oidc.clockSkewSeconds = value.clockSkewSeconds;
  if (changed.includes("allowedTenants")) oidc.allowedTenants = value.allowedTenants;
  settings.oidc = oidc;
  if (changed.some((f) => f === "groupsClaim" || f === "roleRules" || f === "defaultRole")) {
    settings.roles = {
      groupsClaim: value.groupsClaim,
      rules: value.roleRules,
      defaultRole: value.defaultRole,
    };
  }

  const revokedSessions = await saveConnectionEdit(ctx, actor, existing, {
    changes: settings,
    changed,
    name: value.name,
    domains: value.domains,
    auditDetail: {
      ...(credentials ? { tokenEndpointAuthMethod: credentials.method ?? "auto" } : {}),
      ...(credentials?.note ? { credentialsNote: credentials.note } : {}),
    },
  });
  // The client configuration is cached by settings version (connection id and updated_at).
  forgetConfiguration(`${id}:${existing.updatedAt}`);
  const updated = await findConnectionById(ctx.store.db, id);
  if (!updated) throw notFound();
  return {
    connection: toConnectionView(ctx.config, updated),
    changed,
    revokedSessions,
    ...(credentials?.note ? { credentialsNote: credentials.note } : {}),
  };
}

/** A key pair exists exactly while the connection uses private_key_jwt. */
async function signingKeyFor(
  ctx: AppContext,
  existing: OidcConnection,
  method: TokenEndpointAuthMethod | null,
): Promise<Pick<OidcSettings, "signingKeySealed" | "signingKid"> | Record<string, never>> {
  if (method !== "private_key_jwt") {
    return existing.oidc.signingKid ? { signingKeySealed: null, signingKid: null } : {};
  }
  if (existing.oidc.signingKid) return {};
  const key = await generateSigningKey();
  return {
    signingKeySealed: ctx.box.seal(JSON.stringify(key.privateJwk), `connection-key:${existing.id}`),
    signingKid: key.kid,
  };
}
