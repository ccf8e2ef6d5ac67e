import { createHmac } from "node:crypto";
import { newId, safeEqual } from "../crypto/tokens.js";
import { isUuid } from "../domain/ids.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import * as reservedIds from "../store/saml-reserved-ids.js";

/**
 * A SAML connection's URLs (ACS URL, SP Entity ID, SP metadata URL) derive from its id, and the
 * admin copies them into the IdP before the connection exists. So the id is reserved for the
 * organization up front, in the database (src/store/saml-reserved-ids.ts): the Setup page and
 * the API show the same one on every load, to every admin, on every instance and across a key
 * rotation, until Create uses it up; the next load then reserves another. Until Create the
 * metadata URL answers 404; the ACS and Entity ID are what Okta, Entra ID and Google ask for first.
 *
 * The form (and the API) carries the id with a MAC binding it to the organization, checked
 * before anything is read: an id Gatehouse did not hand to this organization is refused as
 * such (no squatting an id another organization's admin was shown), while one it did hand out
 * but whose reservation is gone (another admin's Create) is a conflict Create reports.
 */
export interface NewSamlConnectionId {
  id: string;
  /** Goes back with the form. */
  proof: string;
}

/** The id reserved for the organization's next SAML connection (reserved now if none is). */
export async function reserveSamlConnectionId(
  ctx: AppContext,
  organizationId: string,
): Promise<NewSamlConnectionId> {
  const id = await reservedIds.reserveSamlConnectionId(ctx.store.db, organizationId, newId(), ctx.now());
  return { id, proof: proofOf(ctx.cookieSecret, organizationId, id) };
}

/** The proof for an id this organization was already given (the form shown again after a test). */
export function reissueSamlConnectionId(
  ctx: AppContext,
  organizationId: string,
  id: string,
): NewSamlConnectionId {
  return { id, proof: proofOf(ctx.cookieSecret, organizationId, id) };
}

/** The id the form carries, when it is one this organization was given; else a 400. */
export function claimSamlConnectionId(
  ctx: AppContext,
  organizationId: string,
  id: unknown,
  proof: unknown,
): string {
  if (isUuid(id) && typeof proof === "string") {
    for (const key of [ctx.cookieSecret, ...ctx.previousCookieSecrets]) {
      if (safeEqual(proof, proofOf(key, organizationId, id))) return id;
    }
  }
  throw new GatehouseError(
    "REQUEST_INVALID",
    "This form's connection id was not issued to your organization. Reload the page.",
    {
      detail: "SAML connection id without a valid proof",
    },
  );
}

function proofOf(key: Buffer, organizationId: string, id: string): string {
  return createHmac("sha256", key).update(`saml-connection-id:${organizationId}:${id}`).digest("base64url");
}
