import { DEFAULT_GROUPS_CLAIM } from "../domain/provider-roles.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { settingsColumns } from "../sso/saml/stored-settings.js";
import {
  type ConnectionChanges,
  findConnection,
  findConnectionById,
  type SamlConnection,
  type SamlConnectionSettings,
} from "../store/connections.js";
import { refuseConflicts } from "./create.js";
import type { ConnectionActor } from "./delete.js";
import {
  SAML_FIELDS,
  type SamlConnectionInput,
  type SamlField,
  type ValidSamlConnectionInput,
  validateSamlConnectionInput,
} from "./saml-validate.js";
import { saveConnectionEdit } from "./save.js";
import { type SamlConnectionView, toConnectionView } from "./view.js";

/** An edit: any of the fields; `idp` (URL, XML or by hand) replaces the IdP's settings when given. */
export type SamlConnectionPatch = { [K in keyof SamlConnectionInput]?: SamlConnectionInput[K] | undefined };

export interface UpdatedSamlConnection {
  connection: SamlConnectionView;
  changed: SamlField[];
  revokedSessions: number;
}

/** The stored connection as input: its IdP by hand, so that an edit that leaves it alone re-checks nothing remote. */
export function samlInputOf(c: SamlConnection): SamlConnectionInput {
  return {
    name: c.name,
    domains: c.domains,
    idp: {
      entityId: c.saml.entityId,
      ssoUrl: c.saml.ssoUrl,
      sloUrl: c.saml.sloUrl ?? "",
      sloResponseUrl: c.saml.sloResponseUrl ?? "",
      certificates: c.saml.signingCertificates,
    },
    allowIdpInitiated: c.saml.allowIdpInitiated,
    emailAttribute: c.saml.emailAttribute ?? "",
    nameAttribute: c.saml.nameAttribute ?? "",
    groupsAttribute: c.saml.groupsAttribute ?? "",
    roleRules: [...c.roles.rules],
    defaultRole: c.roles.defaultRole,
  };
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Which fields the edit changes, comparing what is stored with what would be. Pure. */
export function changedSamlFields(
  c: SamlConnection,
  next: ValidSamlConnectionInput,
  stored: Omit<SamlConnectionSettings, "spPrivateKeySealed" | "spCertificate">,
): SamlField[] {
  const s = c.saml;
  const differs: Partial<Record<SamlField, boolean>> = {
    name: next.name !== c.name,
    domains: !(next.domains.length === c.domains.length && next.domains.every((d) => c.domains.includes(d))),
    metadataUrl: stored.metadataUrl !== s.metadataUrl,
    entityId: stored.entityId !== s.entityId,
    ssoUrl: stored.ssoUrl !== s.ssoUrl,
    sloUrl: stored.sloUrl !== s.sloUrl || stored.sloResponseUrl !== s.sloResponseUrl,
    certificates: !sameList(stored.signingCertificates, s.signingCertificates),
    allowIdpInitiated: stored.allowIdpInitiated !== s.allowIdpInitiated,
    emailAttribute: stored.emailAttribute !== s.emailAttribute,
    nameAttribute: stored.nameAttribute !== s.nameAttribute,
    groupsAttribute: stored.groupsAttribute !== s.groupsAttribute,
    roleRules: JSON.stringify(next.roleRules) !== JSON.stringify(c.roles.rules),
    defaultRole: next.defaultRole !== c.roles.defaultRole,
  };
  return SAML_FIELDS.filter((f) => differs[f]);
}

function notFound(): GatehouseError {
  return new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
}

/**
 * Edits a SAML connection with Create's checks: the fields; new IdP settings (a metadata URL is
 * downloaded again, which is how an admin picks up a rolled-over certificate); the name and
 * domains against every organization. Then in one transaction: the settings (the SP key pair,
 * and so the URLs and certificate the IdP holds, never change), the domains, the end of non-SSO
 * sessions at domains that start enforcing, and `connection.updated` naming the changed fields.
 */
export async function updateSamlConnection(
  ctx: AppContext,
  actor: ConnectionActor,
  id: string,
  patch: SamlConnectionPatch,
): Promise<UpdatedSamlConnection> {
  const existing = await findConnection(ctx.store.db, actor.organizationId, id);
  if (existing?.protocol !== "saml") throw notFound();
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const value = await validateSamlConnectionInput(ctx, { ...samlInputOf(existing), ...defined });
  const columns = settingsColumns(value.settings);
  const stored = {
    ...columns,
    // Without new IdP settings the stored ones stand, including what only metadata says.
    ...(patch.idp
      ? { metadataUrl: value.metadataUrl }
      : {
          wantAuthnRequestsSigned: existing.saml.wantAuthnRequestsSigned,
          metadataUrl: existing.saml.metadataUrl,
        }),
  };
  const changed = changedSamlFields(existing, value, stored);
  if (changed.length === 0) {
    return {
      connection: toConnectionView(ctx.config, existing) as SamlConnectionView,
      changed,
      revokedSessions: 0,
    };
  }
  if (changed.includes("name") || changed.includes("domains")) {
    await refuseConflicts(ctx, actor.organizationId, value, existing.id);
  }
  const settings: ConnectionChanges = { saml: stored };
  if (changed.includes("name")) settings.name = value.name;
  if (changed.some((f) => f === "groupsAttribute" || f === "roleRules" || f === "defaultRole")) {
    settings.roles = {
      groupsClaim: stored.groupsAttribute ?? DEFAULT_GROUPS_CLAIM,
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
      protocol: "saml",
      ...(changed.includes("entityId") ? { idpEntityId: stored.entityId } : {}),
    },
  });
  const updated = await findConnectionById(ctx.store.db, id);
  if (updated?.protocol !== "saml") throw notFound();
  return {
    connection: toConnectionView(ctx.config, updated) as SamlConnectionView,
    changed,
    revokedSessions,
  };
}
