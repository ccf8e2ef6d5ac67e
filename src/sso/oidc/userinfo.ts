import * as client from "openid-client";
import { GatehouseError } from "../../errors.js";
import { toSignInError } from "./protocol-errors.js";

export interface ProfileClaims {
  email?: unknown;
  email_verified?: unknown;
  name?: unknown;
  /** Userinfo's answer, when it was called. */
  userinfo?: client.UserInfoResponse;
}

/**
 * Many IdPs put only `sub` in the ID token and the profile in userinfo. Userinfo is called only
 * when the ID token lacks the email or the name, and its `sub` must equal the ID token's
 * (OIDC Core 5.3.2), which openid-client checks with the expected subject.
 *
 * `emailClaim` names the claim that holds the address (`email` by default; Entra ID often
 * sends `preferred_username` or `upn` instead). `email_verified` speaks of the `email` claim
 * only, so it is dropped when the address comes from another claim.
 */
export async function fetchMissingClaims(
  config: client.Configuration,
  accessToken: string,
  idClaims: client.IDToken,
  emailClaim = "email",
): Promise<ProfileClaims> {
  const verifiedApplies = emailClaim === "email";
  const fromIdToken: ProfileClaims = {
    email: idClaims[emailClaim],
    email_verified: verifiedApplies ? idClaims.email_verified : undefined,
    name: idClaims.name,
  };
  if (fromIdToken.email !== undefined && fromIdToken.name !== undefined) return fromIdToken;
  if (!config.serverMetadata().userinfo_endpoint) return fromIdToken;
  let userinfo: client.UserInfoResponse;
  try {
    userinfo = await client.fetchUserInfo(config, accessToken, idClaims.sub);
  } catch (error) {
    const mapped = toSignInError(error);
    if (mapped.code === "SSO_OUTBOUND_FAILED" || mapped.code === "SSO_ISSUER_NOT_ALLOWED") throw mapped;
    throw new GatehouseError(
      "SSO_USERINFO_INVALID",
      "The identity provider's user information was not accepted.",
      {
        detail: `userinfo: ${mapped.detail ?? mapped.message}`,
        cause: error,
      },
    );
  }
  return {
    email: fromIdToken.email ?? userinfo[emailClaim],
    // The ID token's statement about the email wins when it made one.
    email_verified: !verifiedApplies
      ? undefined
      : fromIdToken.email !== undefined
        ? fromIdToken.email_verified
        : userinfo.email_verified,
    name: fromIdToken.name ?? userinfo.name,
    userinfo,
  };
}
