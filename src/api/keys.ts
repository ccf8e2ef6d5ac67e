import { hashToken, newId, randomToken } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { insertApiKey } from "../store/api-keys.js";
import { insertAuditEvent } from "../store/audit.js";
import { findOrganizationBySlug } from "../store/organizations.js";

export const API_KEY_PREFIX = "ghk_";

/** Creates an API key for one organization. The key is returned once and stored only as a hash. */
export async function createApiKey(
  ctx: AppContext,
  orgSlug: string,
  name: string,
): Promise<{ id: string; key: string; prefix: string }> {
  const organization = await findOrganizationBySlug(ctx.store.db, orgSlug.trim().toLowerCase());
  if (!organization) throw new GatehouseError("NOT_FOUND", `No organization with the slug "${orgSlug}".`);
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100)
    throw new GatehouseError("VALIDATION_FAILED", "The key name must be 1-100 characters.", {
      fields: { name: "must be 1-100 characters" },
    });
  const key = `${API_KEY_PREFIX}${randomToken(32)}`;
  const id = newId();
  const prefix = key.slice(0, 12);
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    await insertApiKey(
      trx,
      { id, organizationId: organization.id, name: trimmed, keyHash: hashToken(key), prefix },
      now,
    );
    await insertAuditEvent(
      trx,
      {
        type: "api_key.created",
        organizationId: organization.id,
        outcome: "success",
        detail: { keyId: id, name: trimmed, prefix },
      },
      now,
    );
  });
  return { id, key, prefix };
}
