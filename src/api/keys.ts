import { hashToken, newId, randomToken } from "../crypto/tokens.js";
import { NAME_CHARACTERS_MESSAGE, nameProblem } from "../domain/names.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import {
  type ApiKeySummary,
  insertApiKey,
  insertOperatorApiKey,
  listOperatorApiKeys,
  listOrganizationApiKeys,
  revokeApiKey as revokeStoredApiKey,
} from "../store/api-keys.js";
import { insertAuditEvent } from "../store/audit.js";
import { findOrganizationBySlug } from "../store/organizations.js";

/** Organization keys: every answer is scoped to the key's organization. */
export const API_KEY_PREFIX = "ghk_";
/** Operator keys act for the deployment: organizations, applications, other keys. */
export const OPERATOR_KEY_PREFIX = "ghop_";

export interface CreatedApiKey {
  id: string;
  key: string;
  prefix: string;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100)
    throw new GatehouseError("VALIDATION_FAILED", "The key name must be 1-100 characters.", {
      fields: { name: "must be 1-100 characters" },
    });
  if (nameProblem(trimmed))
    throw new GatehouseError("VALIDATION_FAILED", "The key name has characters that are not allowed.", {
      fields: { name: NAME_CHARACTERS_MESSAGE },
    });
  return trimmed;
}

/** Creates an API key for one organization. The key is returned once and stored only as a hash. */
export async function createApiKey(
  ctx: AppContext,
  orgSlug: string,
  name: string,
  actorUserId: string | null = null,
): Promise<CreatedApiKey> {
  const organization = await findOrganizationBySlug(ctx.store.db, orgSlug.trim().toLowerCase());
  if (!organization) throw new GatehouseError("NOT_FOUND", `No organization with the slug "${orgSlug}".`);
  return createOrganizationApiKey(ctx, organization.id, name, actorUserId);
}

export async function createOrganizationApiKey(
  ctx: AppContext,
  organizationId: string,
  name: string,
  actorUserId: string | null,
): Promise<CreatedApiKey> {
  const trimmed = checkName(name);
  const key = `${API_KEY_PREFIX}${randomToken(32)}`;
  const id = newId();
  const prefix = key.slice(0, 12);
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    await insertApiKey(trx, { id, organizationId, name: trimmed, keyHash: hashToken(key), prefix }, now);
    await insertAuditEvent(
      trx,
      {
        type: "api_key.created",
        organizationId,
        actorUserId,
        outcome: "success",
        detail: { keyId: id, name: trimmed, prefix },
      },
      now,
    );
  });
  return { id, key, prefix };
}

/** Creates an operator key (deployment-wide). Returned once, stored only as a hash. */
export async function createOperatorApiKey(ctx: AppContext, name: string): Promise<CreatedApiKey> {
  const trimmed = checkName(name);
  const key = `${OPERATOR_KEY_PREFIX}${randomToken(32)}`;
  const id = newId();
  const prefix = key.slice(0, 13);
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    await insertOperatorApiKey(trx, { id, name: trimmed, keyHash: hashToken(key), prefix }, now);
    await insertAuditEvent(
      trx,
      {
        type: "api_key.created",
        outcome: "success",
        detail: { keyId: id, name: trimmed, prefix, operator: true },
      },
      now,
    );
  });
  return { id, key, prefix };
}

/** Keys in reach: one organization's, or (null) the operator's keys followed by every organization's. */
export async function listApiKeys(ctx: AppContext, organizationId: string | null): Promise<ApiKeySummary[]> {
  if (organizationId !== null) return listOrganizationApiKeys(ctx.store.db, organizationId);
  return [
    ...(await listOperatorApiKeys(ctx.store.db)),
    ...(await listOrganizationApiKeys(ctx.store.db, null)),
  ];
}

/**
 * Revokes a key. The next request with it is refused by every instance, since keys are looked
 * up in the database on each request.
 */
export async function revokeApiKey(
  ctx: AppContext,
  id: string,
  scope: { organizationId: string } | { operator: true },
  actorUserId: string | null = null,
): Promise<ApiKeySummary> {
  const now = ctx.now();
  return ctx.store.db.transaction().execute(async (trx) => {
    const revoked = await revokeStoredApiKey(trx, id, scope, now);
    if (!revoked) throw new GatehouseError("NOT_FOUND", "No such active API key.");
    await insertAuditEvent(
      trx,
      {
        type: "api_key.revoked",
        organizationId: revoked.organizationId,
        actorUserId,
        outcome: "success",
        detail: {
          keyId: revoked.id,
          name: revoked.name,
          prefix: revoked.prefix,
          operator: revoked.scope === "operator",
        },
      },
      now,
    );
    return revoked;
  });
}
