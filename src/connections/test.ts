import { newId } from "../crypto/tokens.js";
import { DEFAULT_GROUPS_CLAIM, DEFAULT_ROLE, type RolePolicy } from "../domain/provider-roles.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { discoverIssuer } from "../sso/oidc/discover.js";
import { insertAuditEvent } from "../store/audit.js";
import {
  type ConnectionTestRow,
  claimConnectionTest,
  findConnectionTest,
  insertConnectionTest,
} from "../store/connection-tests.js";
import {
  type Connection,
  findConnection,
  findConnectionById,
  type OidcConnection,
} from "../store/connections.js";
import { findDomainByName } from "../store/domains.js";
import type { TokenEndpointAuthMethod } from "../store/schema.js";
import {
  checkConnectionCredentials,
  DEFAULT_SCOPES,
  fieldErrors,
  issuerTemplate,
  refuseConflicts,
} from "./create.js";
import { isSamlUnsavedSettings, type SamlUnsavedSettings, unsavedSamlConnection } from "./saml-test.js";
import {
  type StartedTest,
  startedTest,
  TEST_TTL_MS,
  type TestActor,
  testPaths,
  testSecretContext,
  unsavedTestRow,
} from "./test-row.js";
import { type CheckedEdit, type ConnectionPatch, checkConnectionEdit } from "./update.js";
import {
  type ConnectionInput,
  type TokenEndpointAuthMethodChoice,
  type ValidConnectionInput,
  validateConnectionInput,
} from "./validate.js";

export { type StartedTest, TEST_TTL_MS, type TestActor, testPaths, testSecretContext };

/** The Setup form's values a test runs with, kept server-side; the secret is sealed apart. */
export interface UnsavedSettings {
  name: string;
  issuer: string;
  clientId: string;
  domains: string[];
  /** As the admin chose it, for a Create from the test. */
  tokenEndpointAuthMethodChoice: TokenEndpointAuthMethodChoice;
  /** As the credentials check found it: what the test signs in with. */
  tokenEndpointAuthMethod: TokenEndpointAuthMethod | null;
  extraScopes: string[];
  emailClaim: string;
  clockSkewSeconds: number;
  idTokenIssuer: string | null;
  /** Absent in tests started before roles existed. */
  roles?: RolePolicy;
  /** Absent in tests started before they were kept. */
  allowedTenants?: string[];
  /** The id of the connection whose edit these values are; absent for the Setup form's. */
  editing?: string;
}

/** The checked form values a test keeps, with what the provider's checks found. */
function settingsOf(
  value: ValidConnectionInput,
  found: Pick<UnsavedSettings, "tokenEndpointAuthMethod" | "idTokenIssuer" | "editing">,
): UnsavedSettings {
  return {
    name: value.name,
    issuer: value.issuer,
    clientId: value.clientId,
    domains: value.domains,
    tokenEndpointAuthMethodChoice: value.tokenEndpointAuthMethod,
    extraScopes: value.extraScopes,
    emailClaim: value.emailClaim,
    clockSkewSeconds: value.clockSkewSeconds,
    roles: { groupsClaim: value.groupsClaim, rules: value.roleRules, defaultRole: value.defaultRole },
    allowedTenants: value.allowedTenants,
    ...found,
  };
}

/**
 * The tested values as the form's input again, with the test's sealed secret: what "Create the
 * connection" and "Save these changes" submit, checked again as Create and Save check them.
 */
export function testedInput(settings: UnsavedSettings, clientSecret: string): ConnectionInput {
  return {
    name: settings.name,
    issuer: settings.issuer,
    clientId: settings.clientId,
    clientSecret,
    domains: settings.domains,
    tokenEndpointAuthMethod: settings.tokenEndpointAuthMethodChoice,
    extraScopes: settings.extraScopes,
    emailClaim: settings.emailClaim,
    clockSkewSeconds: settings.clockSkewSeconds,
    allowedTenants: settings.allowedTenants ?? [],
    ...(settings.roles
      ? {
          groupsClaim: settings.roles.groupsClaim,
          roleRules: [...settings.roles.rules],
          defaultRole: settings.roles.defaultRole,
        }
      : {}),
  };
}

/**
 * A test of values not saved yet: the same field checks, conflicts, discovery and credentials
 * check as Create, in the same order, then the values kept for TEST_TTL_MS with the secret
 * sealed. A refusal is the same field error Create would give, and nothing is kept.
 */
export async function testUnsavedConnection(
  ctx: AppContext,
  actor: TestActor,
  input: ConnectionInput,
): Promise<StartedTest> {
  const { value, errors } = validateConnectionInput(input);
  if (!errors.tokenEndpointAuthMethod && value.tokenEndpointAuthMethod === "private_key_jwt") {
    errors.tokenEndpointAuthMethod =
      "Gatehouse's key for private_key_jwt exists once the connection is created: create it, register its JWKS URL at your identity provider, then test it from its page.";
  }
  if (Object.keys(errors).length > 0) throw fieldErrors(errors);
  await refuseConflicts(ctx, actor.organizationId, value);
  const metadata = await discoverIssuer(ctx, value.issuer, { fresh: true });
  let method: TokenEndpointAuthMethod | null;
  try {
    method = (await checkConnectionCredentials(ctx, metadata, value)).method;
  } catch (error) {
    if (isGatehouseError(error)) {
      await insertAuditEvent(
        ctx.store.db,
        {
          type: "connection.tested",
          organizationId: actor.organizationId,
          actorUserId: actor.actorUserId,
          outcome: "failure",
          reasonCode: error.code,
          ip: actor.ip,
          detail: {
            saved: false,
            name: value.name,
            issuer: value.issuer,
            check: error.detail ?? error.message,
          },
        },
        ctx.now(),
      );
    }
    throw error;
  }
  const settings = settingsOf(value, {
    tokenEndpointAuthMethod: method,
    idTokenIssuer: issuerTemplate(metadata.issuer, value.issuer),
  });
  const id = newId();
  const row = unsavedTestRow(ctx, actor, id, settings, value.clientSecret);
  await insertConnectionTest(ctx.store.db, row);
  return startedTest(ctx, row);
}

/**
 * A test of an edit's values before Save, checked as Save checks them (discovery and the
 * credentials check only when the issuer or the credentials change), then kept for TEST_TTL_MS
 * like the Setup form's; a blank secret field means the stored secret, and a private_key_jwt
 * connection signs with its own key, which the provider already holds. The saved connection
 * keeps signing people in unchanged meanwhile. A refusal is the edit form's field error.
 */
export async function testEditedConnection(
  ctx: AppContext,
  actor: TestActor,
  connectionId: string,
  patch: ConnectionPatch,
): Promise<StartedTest> {
  let checked: CheckedEdit;
  try {
    checked = await checkConnectionEdit(ctx, actor.organizationId, connectionId, patch);
    const method = checked.provider?.credentials.method ?? checked.existing.oidc.tokenEndpointAuthMethod;
    if (method === "private_key_jwt" && !checked.existing.oidc.signingKid) {
      throw fieldErrors({
        tokenEndpointAuthMethod:
          "Gatehouse's key for private_key_jwt is made when you save: save, register the JWKS URL shown on the connection's page at your identity provider, then test from there.",
      });
    }
  } catch (error) {
    if (isGatehouseError(error) && error.code !== "CONNECTION_NOT_FOUND") {
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
          detail: { saved: false, editing: true, check: error.detail ?? error.message },
        },
        ctx.now(),
      );
    }
    throw error;
  }
  const { existing, value, provider } = checked;
  const settings = settingsOf(value, {
    tokenEndpointAuthMethod: provider?.credentials.method ?? existing.oidc.tokenEndpointAuthMethod,
    idTokenIssuer: provider ? provider.idTokenIssuer : existing.oidc.idTokenIssuer,
    editing: existing.id,
  });
  const row = unsavedTestRow(ctx, actor, newId(), settings, value.clientSecret || checked.storedSecret());
  await insertConnectionTest(ctx.store.db, row);
  return startedTest(ctx, row);
}

/** A test of a saved connection, enabled or not: it signs in with the stored settings. */
export async function testSavedConnection(
  ctx: AppContext,
  actor: TestActor,
  connectionId: string,
): Promise<StartedTest> {
  const connection = await findConnection(ctx.store.db, actor.organizationId, connectionId);
  if (!connection) {
    throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
  }
  const now = ctx.now();
  const row: ConnectionTestRow = {
    id: newId(),
    organization_id: actor.organizationId,
    connection_id: connection.id,
    actor_user_id: actor.actorUserId,
    session_hash: actor.actorSessionHash ?? null,
    settings: null,
    client_secret_sealed: null,
    result: null,
    outcome: null,
    created_at: now,
    expires_at: now + TEST_TTL_MS,
    finished_at: null,
  };
  await insertConnectionTest(ctx.store.db, row);
  return startedTest(ctx, row);
}

/**
 * The test as the admin session may see it. A test is bound to the session that started it;
 * one started with an API key belongs to the first admin session that opens it. Anyone
 * else's id, or a test of another organization, is not found.
 */
export async function openConnectionTest(
  ctx: AppContext,
  organizationId: string,
  id: string,
  sessionHash: string,
): Promise<ConnectionTestRow> {
  const row = await findConnectionTest(ctx.store.db, organizationId, id);
  const owned =
    row &&
    (row.session_hash === sessionHash || (await claimConnectionTest(ctx.store.db, row.id, sessionHash)));
  if (!row || !owned) throw new GatehouseError("NOT_FOUND", "No such test sign-in.");
  return row;
}

/** The unsaved values, of either protocol, while the test has not expired. */
function unsavedValues(
  row: ConnectionTestRow,
  now: number,
): UnsavedSettings | SamlUnsavedSettings | undefined {
  if (!row.settings || !row.client_secret_sealed || row.expires_at <= now) return undefined;
  return JSON.parse(row.settings) as UnsavedSettings | SamlUnsavedSettings;
}

/** The unsaved OpenID Connect settings (what "Create the connection" takes), while the test has not expired. */
export function unsavedSettings(row: ConnectionTestRow, now: number): UnsavedSettings | undefined {
  const values = unsavedValues(row, now);
  return isSamlUnsavedSettings(values) ? undefined : values;
}

/** The unsaved client secret, while the test has not expired. */
export function unsavedSecret(ctx: AppContext, row: ConnectionTestRow): string | undefined {
  if (!row.client_secret_sealed || row.expires_at <= ctx.now()) return undefined;
  return ctx.box.open(row.client_secret_sealed, testSecretContext(row.id));
}

/**
 * What the test signs in through: the saved connection as a real sign-in would, or the unsaved
 * values as a connection that does not exist yet would (its domains with the organization's
 * verification state, so the domain check is the one the connection will get; `saved` false,
 * so the adapter keeps nothing of it past the attempt).
 */
export async function testConnection(
  ctx: AppContext,
  row: ConnectionTestRow,
): Promise<{
  connection: Connection;
  connectionName: string;
  saved: boolean;
  /**
   * The saved connection whose people a sign-in with these values would find: the one tested,
   * or the one whose edit is tested; none for a connection not created yet.
   */
  accountsOf?: string;
}> {
  if (row.connection_id) {
    const connection = await findConnectionById(ctx.store.db, row.connection_id);
    if (!connection) {
      throw new GatehouseError("CONNECTION_NOT_FOUND", "The connection was deleted.", {
        detail: "connection deleted during the test",
        check: { check: "state", expected: "the connection under test", received: "deleted" },
      });
    }
    return { connection, connectionName: connection.name, saved: true, accountsOf: connection.id };
  }
  const settings = unsavedValues(row, ctx.now());
  const secret = unsavedSecret(ctx, row);
  if (!settings || secret === undefined) {
    throw new GatehouseError("SSO_STATE_EXPIRED", "This test sign-in expired.", {
      detail: "the unsaved settings of the test are past their 10 minutes",
      check: { check: "state", expected: "within 10 minutes", received: "expired" },
    });
  }
  const domainStatuses = [];
  for (const domain of settings.domains) {
    const owned = await findDomainByName(ctx.store.db, row.organization_id, domain);
    domainStatuses.push({
      organizationId: row.organization_id,
      domain,
      state: owned?.state ?? ("pending" as const),
      failingSince: owned?.failingSince ?? null,
    });
  }
  const now = ctx.now();
  if (isSamlUnsavedSettings(settings)) {
    const connection = unsavedSamlConnection(ctx, settings, secret, {
      organizationId: row.organization_id,
      name: settings.name,
      status: "disabled",
      domains: settings.domains,
      domainStatuses,
      createdByUserId: row.actor_user_id,
      createdAt: now,
      updatedAt: now,
    });
    return {
      connection,
      connectionName: settings.name,
      saved: false,
      ...(settings.editing ? { accountsOf: settings.connectionId } : {}),
    };
  }
  // An edit's test signs with the connection's own key (the provider holds its public half),
  // sealed again to the test so that nothing of it is shared with the saved connection.
  let signingKey: Pick<OidcConnection["oidc"], "signingKeySealed" | "signingKid"> = {
    signingKeySealed: null,
    signingKid: null,
  };
  if (settings.editing) {
    const edited = await findConnection(ctx.store.db, row.organization_id, settings.editing);
    if (edited?.protocol !== "oidc") {
      throw new GatehouseError("CONNECTION_NOT_FOUND", "The connection was deleted.", {
        detail: "connection deleted during the test of its edit",
        check: { check: "state", expected: "the connection being edited", received: "deleted" },
      });
    }
    const { signingKeySealed, signingKid } = edited.oidc;
    if (signingKeySealed && signingKid) {
      const key = ctx.box.open(signingKeySealed, `connection-key:${edited.id}`);
      signingKey = { signingKeySealed: ctx.box.seal(key, `connection-key:${row.id}`), signingKid };
    }
  }
  const unsaved: OidcConnection = {
    id: row.id,
    organizationId: row.organization_id,
    protocol: "oidc",
    name: settings.name,
    oidc: {
      issuer: settings.issuer,
      clientId: settings.clientId,
      // Sealed as a saved connection's secret is, for the adapter to open the same way; never stored.
      clientSecretSealed: ctx.box.seal(secret, `connection:${row.id}`),
      tokenEndpointAuthMethod: settings.tokenEndpointAuthMethod,
      scopes: [DEFAULT_SCOPES, ...settings.extraScopes].join(" "),
      emailClaim: settings.emailClaim,
      clockSkewSeconds: settings.clockSkewSeconds,
      ...signingKey,
      idTokenIssuer: settings.idTokenIssuer,
      allowedTenants: settings.allowedTenants ?? [],
    },
    status: "disabled",
    domains: settings.domains,
    domainStatuses,
    createdByUserId: row.actor_user_id,
    createdAt: now,
    updatedAt: now,
    roles: settings.roles ?? { groupsClaim: DEFAULT_GROUPS_CLAIM, rules: [], defaultRole: DEFAULT_ROLE },
  };
  return {
    connection: unsaved,
    connectionName: settings.name,
    saved: false,
    ...(settings.editing ? { accountsOf: settings.editing } : {}),
  };
}
