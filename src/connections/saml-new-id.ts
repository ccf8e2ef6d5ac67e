import { createHmac } from "node:crypto";
import { newId, safeEqual } from "../crypto/tokens.js";
import { isUuid } from "../domain/ids.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";

/**
 * A SAML connection's URLs (ACS URL, SP Entity ID, SP metadata URL) derive from its id, and the
 * admin copies them into the IdP before the connection exists. So the Setup page allocates the
 * id up front and carries it in the form, with a MAC binding it to the organization: the form
 * cannot name an id Gatehouse did not hand to this organization (no squatting an id another
 * organization's admin was shown), and nothing is stored until Create. Until then the metadata
 * URL answers 404; the ACS and Entity ID are what Okta, Entra ID and Google ask for first.
 */
export interface NewSamlConnectionId {
  id: string;
  /** Goes back with the form. */
  proof: string;
}

export function allocateSamlConnectionId(ctx: AppContext, organizationId: string): NewSamlConnectionId {
  const id = newId();
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
