import { newId } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { newSamlSettings } from "../sso/saml/stored-settings.js";
import { findConnectionById } from "../store/connections.js";
import { useReservedSamlConnectionId } from "../store/saml-reserved-ids.js";
import { refuseConflicts } from "./create.js";
import { type SamlConnectionInput, validateSamlConnectionInput } from "./saml-validate.js";
import { saveNewConnection } from "./save.js";
import { type SamlConnectionView, toConnectionView } from "./view.js";

export interface CreateSamlConnectionRequest {
  organizationId: string;
  input: SamlConnectionInput;
  /**
   * The id reserved for the organization, which the Setup page showed the admin (its URLs derive
   * from it): Create uses up the reservation. A new id otherwise.
   */
  connectionId?: string | undefined;
  actorUserId: string | null;
  actorSessionHash?: string | undefined;
  ip?: string | undefined;
}

export interface CreatedSamlConnection {
  connection: SamlConnectionView;
  /** Password and LinkedIn sessions ended because their users must now use SSO. */
  revokedSessions: number;
}

/**
 * Creates a SAML connection, enabled. Checks in order: the fields, the IdP's metadata
 * (downloaded through the outbound module when given by URL), the name and domains against
 * every organization; then, in one transaction: the organization's reserved id used up (of two
 * admins creating with it at once, one gets it and the other a CONFLICT), the connection with
 * its own SP key pair (the private key sealed to it), its domains, the audit event (field
 * values, never a key), and the end of non-SSO sessions at its verified domains. A refusal
 * writes nothing, and keeps the reservation.
 */
export async function createSamlConnection(
  ctx: AppContext,
  request: CreateSamlConnectionRequest,
): Promise<CreatedSamlConnection> {
  const value = await validateSamlConnectionInput(ctx, request.input);
  await refuseConflicts(ctx, request.organizationId, value);
  const id = request.connectionId ?? newId();
  if (await findConnectionById(ctx.store.db, id)) throw alreadyCreated();
  const saml = await newSamlSettings(ctx.box, id, value.settings, {
    metadataUrl: value.metadataUrl,
    commonName: `Gatehouse SAML ${value.name}`.slice(0, 64),
  });
  const revokedSessions = await saveNewConnection(ctx, request, {
    connection: {
      id,
      organizationId: request.organizationId,
      name: value.name,
      domains: value.domains,
      createdByUserId: request.actorUserId,
      protocol: "saml",
      saml,
      roles: {
        groupsClaim: value.settings.attributes.groups ?? "groups",
        rules: value.roleRules,
        defaultRole: value.defaultRole,
      },
    },
    auditDetail: (revokedSessions) => ({
      name: value.name,
      protocol: "saml",
      idpEntityId: value.settings.idp.entityId,
      ...(value.metadataUrl ? { metadataUrl: value.metadataUrl } : {}),
      domains: value.domains,
      allowIdpInitiated: value.settings.allowIdpInitiated,
      revokedSessions,
    }),
    // Two admins racing for the same name, domain or (a form sent twice) id.
    takenMessage: "This name, one of the domains or this connection was just taken. Reload and try again.",
    before: async (trx) => {
      if (request.connectionId === undefined) return;
      if (!(await useReservedSamlConnectionId(trx, request.organizationId, id))) throw reservationGone();
    },
  });
  const created = await findConnectionById(ctx.store.db, id);
  if (created?.protocol !== "saml")
    throw new GatehouseError("INTERNAL", "connection vanished after creation");
  return { connection: toConnectionView(ctx.config, created) as SamlConnectionView, revokedSessions };
}

/** The id was handed to this organization, but another Create (another admin's) used it meanwhile. */
function reservationGone(): GatehouseError {
  return new GatehouseError(
    "CONFLICT",
    "Another connection was just created with these URLs. Reload the page: it shows new ones to give your IdP.",
    {
      fields: { name: "These URLs were just used by another connection of your organization." },
      detail: "the SAML connection id is no longer reserved for the organization",
    },
  );
}

function alreadyCreated(): GatehouseError {
  return new GatehouseError(
    "CONFLICT",
    "This connection has already been created. Open it from the SAML 2.0 page, or reload to set up another.",
    { fields: { name: "This form was already sent: the connection exists." } },
  );
}
