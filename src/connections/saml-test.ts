import { newId } from "../crypto/tokens.js";
import { DEFAULT_GROUPS_CLAIM, type RolePolicy } from "../domain/provider-roles.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { generateSpKeyPair } from "../sso/saml/sp-keys.js";
import { settingsColumns, spKeyContext } from "../sso/saml/stored-settings.js";
import { insertAuditEvent } from "../store/audit.js";
import type { SamlConnectionSettings } from "../store/connection-saml.js";
import { insertConnectionTest } from "../store/connection-tests.js";
import { findConnection, findConnectionById, type SamlConnection } from "../store/connections.js";
import { refuseConflicts } from "./create.js";
import { samlInputOf } from "./saml-update.js";
import { type SamlConnectionInput, validateSamlConnectionInput } from "./saml-validate.js";
import { type StartedTest, startedTest, type TestActor, unsavedTestRow } from "./test-row.js";

/**
 * The SAML values a test of unsaved settings runs with, kept server-side in its
 * `connection_tests` row (never carried by the browser): the validated IdP settings, and the
 * id whose ACS URL and SP Entity ID the IdP holds. The SP private key is sealed apart, to the test.
 */
export interface SamlUnsavedSettings {
  protocol: "saml";
  name: string;
  /**
   * The connection's id: the one reserved for the organization (its proof checked) or the edited
   * connection's. The ACS URL the answer must come back to, Destination, Recipient and
   * Audience all derive from it.
   */
  connectionId: string;
  /** True for an edit's values: the connection exists, and its own SP key pair signs the test. */
  editing: boolean;
  domains: string[];
  saml: Omit<SamlConnectionSettings, "spPrivateKeySealed">;
  roles: RolePolicy;
}

export function isSamlUnsavedSettings(value: unknown): value is SamlUnsavedSettings {
  return (value as { protocol?: unknown } | null)?.protocol === "saml";
}

/** Where the values come from: the Setup form (a new id) or a saved connection's edit form. */
export type SamlTestTarget = { kind: "new"; connectionId: string } | { kind: "edit"; connectionId: string };

/**
 * A test of SAML values not saved yet, checked as Create (or Save) checks them: the fields, the
 * IdP's metadata (downloaded when given by URL), the name and domains against every
 * organization. The values are then kept for TEST_TTL_MS with the SP private key sealed to the
 * test: a fresh key pair for a new connection (the IdP cannot hold its certificate yet, so it
 * must not encrypt), the connection's own for an edit. Nothing else is written; a refusal is
 * the form's field error and is audited as `connection.tested`.
 */
export async function testUnsavedSamlConnection(
  ctx: AppContext,
  actor: TestActor,
  target: SamlTestTarget,
  input: Omit<SamlConnectionInput, "idp"> & { idp?: SamlConnectionInput["idp"] },
): Promise<StartedTest> {
  let existing: SamlConnection | undefined;
  if (target.kind === "edit") {
    const found = await findConnection(ctx.store.db, actor.organizationId, target.connectionId);
    if (found?.protocol !== "saml") {
      throw new GatehouseError("CONNECTION_NOT_FOUND", "No such SAML connection in this organization.");
    }
    existing = found;
  } else if (await findConnectionById(ctx.store.db, target.connectionId)) {
    throw new GatehouseError("CONFLICT", "This connection was already created. Open it from the list.", {
      detail: "test of a SAML connection id already in use",
      fields: { name: "This connection was already created." },
    });
  }
  const merged: SamlConnectionInput = existing
    ? {
        ...samlInputOf(existing),
        ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
      }
    : { idp: {}, ...input };
  let value: Awaited<ReturnType<typeof validateSamlConnectionInput>>;
  try {
    value = await validateSamlConnectionInput(ctx, merged);
    await refuseConflicts(ctx, actor.organizationId, value, existing?.id);
  } catch (error) {
    if (isGatehouseError(error)) await auditRefusal(ctx, actor, merged.name, existing?.id ?? null, error);
    throw error;
  }
  const saml = {
    ...settingsColumns(value.settings),
    // An edit that keeps the IdP's side keeps what only its metadata said.
    ...(existing && !input.idp
      ? {
          wantAuthnRequestsSigned: existing.saml.wantAuthnRequestsSigned,
          metadataUrl: existing.saml.metadataUrl,
        }
      : { metadataUrl: value.metadataUrl }),
  };
  const id = newId();
  let privateKeyPem: string;
  let spCertificate: string;
  if (existing) {
    privateKeyPem = ctx.box.open(existing.saml.spPrivateKeySealed, spKeyContext(existing.id));
    spCertificate = existing.saml.spCertificate;
  } else {
    const keyPair = await generateSpKeyPair({ commonName: `Gatehouse SAML test ${id}`.slice(0, 64) });
    privateKeyPem = keyPair.privateKeyPem;
    spCertificate = keyPair.certificatePem;
  }
  const settings: SamlUnsavedSettings = {
    protocol: "saml",
    name: value.name,
    connectionId: target.connectionId,
    editing: existing !== undefined,
    domains: value.domains,
    saml: { ...saml, spCertificate },
    roles: {
      groupsClaim: value.settings.attributes.groups ?? DEFAULT_GROUPS_CLAIM,
      rules: value.roleRules,
      defaultRole: value.defaultRole,
    },
  };
  const row = unsavedTestRow(ctx, actor, id, settings, privateKeyPem);
  await insertConnectionTest(ctx.store.db, row);
  return startedTest(ctx, row);
}

async function auditRefusal(
  ctx: AppContext,
  actor: TestActor,
  name: string,
  connectionId: string | null,
  error: GatehouseError,
): Promise<void> {
  await insertAuditEvent(
    ctx.store.db,
    {
      type: "connection.tested",
      organizationId: actor.organizationId,
      actorUserId: actor.actorUserId,
      connectionId,
      outcome: "failure",
      reasonCode: error.code,
      ip: actor.ip,
      detail: {
        saved: false,
        protocol: "saml",
        name: name.trim().slice(0, 200),
        check: "settings",
        fields: Object.keys(error.fields ?? {}).join(", "),
        detail: error.detail ?? error.message,
      },
    },
    ctx.now(),
  );
}

/**
 * The unsaved SAML values as the connection they would make: its id (so the ACS URL and entity
 * ID are the ones the IdP holds), the SP key re-sealed to that id as a stored connection's is,
 * so the adapter opens it the same way; never stored.
 */
export function unsavedSamlConnection(
  ctx: AppContext,
  settings: SamlUnsavedSettings,
  privateKeyPem: string,
  common: Omit<SamlConnection, "protocol" | "saml" | "id" | "roles">,
): SamlConnection {
  return {
    ...common,
    id: settings.connectionId,
    protocol: "saml",
    saml: {
      ...settings.saml,
      spPrivateKeySealed: ctx.box.seal(privateKeyPem, spKeyContext(settings.connectionId)),
    },
    roles: settings.roles,
  };
}
