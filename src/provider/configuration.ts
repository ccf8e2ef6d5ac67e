import { createHmac } from "node:crypto";
import type { Configuration, ErrorOut, ProviderContext } from "oidc-provider";

import { isSecureBaseUrl } from "../config.js";
import { INTERACTION_PATH } from "../domain/application-request.js";
import type { AppContext } from "../server/context.js";
import type { OidcProviderModule } from "../server/oidc-provider-module.js";
import { hostCookieName } from "../session/cookie.js";
import { kyselyAdapter } from "./adapter.js";
import { claimsByScope, findAccount } from "./claims.js";
import { requireGatehouseSession } from "./gatehouse-session.js";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  AUTHORIZATION_CODE_TTL_SECONDS,
  GRANT_TTL_SECONDS,
  ID_TOKEN_TTL_SECONDS,
  INTERACTION_TTL_SECONDS,
  REFRESH_TOKEN_TTL_SECONDS,
} from "./lifetimes.js";
import { providerErrorPage, providerLogoutPage, providerSignedOutPage, sendProviderPage } from "./pages.js";
import type { KeySet } from "./signing-keys.js";

/** Where oidc-provider's endpoints live; discovery stays at /.well-known/openid-configuration. */
export const PROVIDER_PREFIX = "/oidc";
export { INTERACTION_PATH };

export const providerRoutes = {
  authorization: `${PROVIDER_PREFIX}/auth`,
  token: `${PROVIDER_PREFIX}/token`,
  userinfo: `${PROVIDER_PREFIX}/userinfo`,
  jwks: `${PROVIDER_PREFIX}/jwks`,
  end_session: `${PROVIDER_PREFIX}/session/end`,
  revocation: `${PROVIDER_PREFIX}/token/revocation`,
  introspection: `${PROVIDER_PREFIX}/token/introspection`,
  pushed_authorization_request: `${PROVIDER_PREFIX}/request`,
  registration: `${PROVIDER_PREFIX}/reg`,
  device_authorization: `${PROVIDER_PREFIX}/device/auth`,
  code_verification: `${PROVIDER_PREFIX}/device`,
  backchannel_authentication: `${PROVIDER_PREFIX}/backchannel`,
  challenge: `${PROVIDER_PREFIX}/challenge`,
};

function cookieKey(secret: Buffer): string {
  return createHmac("sha256", secret).update("oidc-provider cookies").digest("base64url");
}

function interactionPolicyFor(app: AppContext, interactionPolicy: OidcProviderModule["interactionPolicy"]) {
  const policy = interactionPolicy.base();
  policy
    .get("login")
    ?.checks.push(
      new interactionPolicy.Check(
        "gatehouse_session",
        "a Gatehouse session of the same person is required",
        "login_required",
        requireGatehouseSession(app),
      ),
    );
  return policy;
}

/**
 * The OpenID Provider's configuration. It stays inside what oidc-provider is certified for
 * (Basic OP, Config OP, RP-Initiated Logout OP, Back-Channel Logout OP): authorization code
 * flow only, PKCE S256 (required for public clients), exact redirect URIs, `iss` in every
 * authorization response (RFC 9207, on by default), no implicit, no password grant.
 */
export function providerConfiguration(
  app: AppContext,
  keySet: KeySet,
  interactionPolicy: OidcProviderModule["interactionPolicy"],
): Partial<Configuration> {
  return {
    adapter: kyselyAdapter({ store: app.store, box: app.box, now: app.now }),
    jwks: { keys: keySet.keys },
    routes: providerRoutes,
    cookies: {
      // The first key signs; the previous secret keys' still verify cookies set before a rotation.
      keys: [app.cookieSecret, ...app.previousCookieSecrets].map(cookieKey),
      // The session cookie has Path=/ and takes `__Host-`; oidc-provider scopes the other two to
      // the interaction and authorization paths, which `__Host-` forbids, so they take `__Secure-`.
      names: {
        session: hostCookieName(app.config, "gh_op_session"),
        interaction: `${isSecureBaseUrl(app.config) ? "__Secure-" : ""}gh_op_interaction`,
        resume: `${isSecureBaseUrl(app.config) ? "__Secure-" : ""}gh_op_resume`,
      },
    },
    scopes: ["openid", "email", "profile", "offline_access"],
    claims: {
      openid: [...claimsByScope.openid],
      email: [...claimsByScope.email],
      profile: [...claimsByScope.profile],
    },
    // Applications read the person's email and organization from the ID token; oidc-provider's
    // default would put the scopes' claims only at userinfo when an access token is issued.
    conformIdTokenClaims: false,
    responseTypes: ["code"],
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
    // OAuth 2.0 Security BCP: public clients must use PKCE; oidc-provider accepts only S256.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === "none" },
    // Every redirect URI is given explicitly, even when the application registered only one.
    allowOmittingSingleRegisteredRedirectUri: false,
    extraParams: ["organization"],
    rotateRefreshToken: true,
    ttl: {
      AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
      AccessToken: ACCESS_TOKEN_TTL_SECONDS,
      IdToken: ID_TOKEN_TTL_SECONDS,
      RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
      Session: app.config.sessionTtlSeconds,
      Grant: GRANT_TTL_SECONDS,
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: { enabled: false },
      requestObjects: { enabled: false },
      claimsParameter: { enabled: false },
      introspection: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          sendProviderPage(ctx, 200, providerLogoutPage(form, ctx.oidc.client?.clientName));
        },
        async postLogoutSuccessSource(ctx) {
          sendProviderPage(ctx, 200, providerSignedOutPage(ctx.oidc.client?.clientName));
        },
      },
    },
    interactions: {
      url: async (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
      policy: interactionPolicyFor(app, interactionPolicy),
    },
    findAccount: findAccount(app),
    // oidc-provider refuses to call private and loopback addresses (back-channel logout URIs,
    // application key sets); the same loud switch as for issuers lifts that, for development.
    ...(app.config.allowPrivateIssuers
      ? {
          fetch: (url: URL | string, options: RequestInit & { dispatcher?: unknown }) => {
            const { dispatcher: _guarded, ...rest } = options;
            return fetch(url, rest);
          },
        }
      : {}),
    // Applications call the token and userinfo endpoints from their servers.
    clientBasedCORS: () => false,
    async renderError(ctx: ProviderContext, out: ErrorOut) {
      sendProviderPage(ctx, 400, providerErrorPage(out));
    },
  };
}
