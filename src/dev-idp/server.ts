import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import type { Configuration, KoaMiddleware, ProviderContext } from "oidc-provider";
import { loadOidcProvider, muteIrrelevantWarnings } from "../server/oidc-provider-module.js";
import { raw } from "../web/html.js";
import { AccountDirectory } from "./accounts.js";
import { interactionRoutes } from "./interactions.js";
import { logoutPage, messagePage, pageHeaders, signedOutPage } from "./pages.js";

export interface DevIdpUser {
  email: string;
  password: string;
  name: string;
  /** Defaults to true. */
  emailVerified?: boolean;
  /** Defaults to a value derived from the email, so it is stable across restarts. */
  sub?: string;
  /** Sent as the `groups` claim when the `groups` scope is requested, as Okta does. */
  groups?: string[];
  /**
   * Test-only: behave like Microsoft Entra ID for a person in too many groups: no `groups`, but
   * `_claim_names` pointing at Microsoft Graph (the group overage).
   */
  groupsOverage?: boolean;
}

export interface DevIdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** Defaults to client_secret_basic. */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
  /** Shown on the sign-in page; defaults to the client id. */
  clientName?: string;
  /** The real provider this client's sign-in page imitates; defaults to "Okta". */
  standsInFor?: string;
}

export interface DevIdpOptions {
  /** 0 picks a free port. */
  port: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to `http://localhost:${port}` with the port actually bound. Must not have a path. */
  issuer?: string;
  clients: DevIdpClient[];
  users: DevIdpUser[];
  /** Test-only: behave like a third-party provider that is stricter than oidc-provider. */
  quirks?: DevIdpQuirks;
}

/**
 * Ways real providers differ from oidc-provider's tolerant defaults, so that tests can show
 * Gatehouse's default settings working against each.
 */
export interface DevIdpQuirks {
  /** HTTP Basic client credentials are compared as sent, without form-urlencoded decoding. */
  literalBasicCredentials?: boolean;
  /** RP-initiated logout returns to `post_logout_redirect_uri` only when the request carried `state`. */
  logoutRedirectOnlyWithState?: boolean;
}

export interface DevIdp {
  issuer: string;
  port: number;
  /** Test-only: replaces the signing key (new `kid`); the key set then publishes only the new one. */
  rotateSigningKey(): Promise<void>;
  /** Test-only: the user with this `sub` now has another email address (and signs in with it). */
  changeEmail(sub: string, email: string): void;
  /** Test-only: the client's secret is replaced, as an admin rotating it at the provider; the old one stops working. */
  setClientSecret(clientId: string, secret: string): void;
  close(): Promise<void>;
}

/** The default demo setup: Okta stand-in client and LinkedIn stand-in client for a Gatehouse at `gatehouseBaseUrl` (e.g. http://localhost:3000/). */
export function demoIdpSetup(gatehouseBaseUrl: string): { clients: DevIdpClient[]; users: DevIdpUser[] } {
  const base = gatehouseBaseUrl.endsWith("/") ? gatehouseBaseUrl : `${gatehouseBaseUrl}/`;
  return {
    clients: [
      {
        clientId: "gatehouse-okta",
        clientSecret: "gatehouse-okta-secret",
        redirectUris: [`${base}sso/oidc/callback`],
        postLogoutRedirectUris: [base],
        clientName: "Gatehouse (enterprise SSO)",
        standsInFor: "Okta",
      },
      {
        clientId: "gatehouse-linkedin",
        clientSecret: "gatehouse-linkedin-secret",
        redirectUris: [`${base}login/linkedin/callback`],
        postLogoutRedirectUris: [base],
        clientName: "Gatehouse (Sign in with LinkedIn)",
        standsInFor: "LinkedIn",
      },
    ],
    users: [
      {
        email: "admin@acme.test",
        password: "admin-password",
        name: "Ada Admin",
        emailVerified: true,
        groups: ["Everyone", "Gatehouse Admins"],
      },
      {
        email: "alice@acme.test",
        password: "alice-password",
        name: "Alice Anderson",
        emailVerified: true,
        groups: ["Everyone", "Engineering"],
      },
      {
        email: "bob@acme.test",
        password: "bob-password",
        name: "Bob Baker",
        emailVerified: true,
        groups: ["Everyone"],
      },
      { email: "carol@gmail.test", password: "carol-password", name: "Carol Chen", emailVerified: true },
    ],
  };
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: "RS256", use: "sig" };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error("dev-idp: server is not listening on a TCP port"));
        return;
      }
      resolve(address.port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive connections (fetch keeps them by default) would hold close() open indefinitely.
    server.closeAllConnections();
  });
}

function quirkMiddleware(quirks: DevIdpQuirks): KoaMiddleware {
  return async (ctx, next) => {
    if (quirks.literalBasicCredentials && ctx.method === "POST" && ctx.path === "/token") {
      const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(ctx.get("authorization"));
      const decoded = basic?.[1] ? Buffer.from(basic[1], "base64").toString("utf8") : "";
      const colon = decoded.indexOf(":");
      if (colon >= 0) {
        // oidc-provider form-urlencoded-decodes what it receives; encoding the literal values
        // once more makes it compare exactly what was sent, as a literal provider does.
        const literal = `${encodeURIComponent(decoded.slice(0, colon))}:${encodeURIComponent(decoded.slice(colon + 1))}`;
        ctx.req.headers.authorization = `Basic ${Buffer.from(literal, "utf8").toString("base64")}`;
      }
    }
    if (
      quirks.logoutRedirectOnlyWithState &&
      ctx.method === "GET" &&
      ctx.path === "/session/end" &&
      !ctx.query.state
    ) {
      const { post_logout_redirect_uri: _dropped, ...rest } = ctx.query;
      ctx.query = rest;
    }
    await next();
  };
}

function setPageHeaders(ctx: ProviderContext): void {
  for (const [name, value] of Object.entries(pageHeaders)) ctx.set(name, value);
  ctx.type = "html";
}

const scopes = ["openid", "email", "profile", "groups"];

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const { default: Provider, errors } = await loadOidcProvider();
  const accounts = new AccountDirectory(options.users);
  const clientDisplay = new Map<string, { name: string; standsInFor: string }>();
  for (const client of options.clients) {
    if (clientDisplay.has(client.clientId)) {
      throw new Error(`dev-idp: duplicate client id ${client.clientId}`);
    }
    clientDisplay.set(client.clientId, {
      name: client.clientName ?? client.clientId,
      standsInFor: client.standsInFor ?? "Okta",
    });
  }
  let jwk = await signingKey();
  const cookieKeys = [randomBytes(32).toString("base64url")];
  const quirks = options.quirks ?? {};
  const clients = options.clients.map((client) => ({ ...client }));

  const server = createServer();
  const port = await listen(server, options.port, options.host ?? "127.0.0.1");
  try {
    const issuer = options.issuer ?? `http://localhost:${port}`;
    // oidc-provider routes under the issuer's path only when mounted inside another app; the
    // IdP serves its routes at the root, so an issuer path would advertise unreachable endpoints.
    if (!["", "/"].includes(new URL(issuer).pathname)) {
      throw new Error(`dev-idp: issuer must not have a path: ${issuer}`);
    }

    const configure = (): Partial<Configuration> => ({
      clients: clients.map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        client_name: client.clientName ?? client.clientId,
        redirect_uris: client.redirectUris,
        post_logout_redirect_uris: client.postLogoutRedirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? "client_secret_basic",
      })),
      jwks: { keys: [jwk] },
      // Fresh keys per start: all state is in memory, so nothing signed earlier needs to verify.
      // oidc-provider marks its cookies Secure only for requests that arrived over TLS, which is
      // what lets the session work on plain http://localhost.
      cookies: { keys: cookieKeys },
      scopes,
      claims: {
        openid: ["sub"],
        email: ["email", "email_verified"],
        profile: ["name", "given_name", "family_name"],
        groups: ["groups"],
      },
      // Okta puts the scope claims into the ID token of a code flow, and relying parties written
      // against it read them there; oidc-provider's default (conform) would serve them only from
      // the userinfo endpoint, leaving the ID token with just `sub`.
      conformIdTokenClaims: false,
      responseTypes: ["code"],
      clientAuthMethods: ["client_secret_basic", "client_secret_post"],
      pkce: { required: () => true },
      ttl: {
        AuthorizationCode: 60,
        AccessToken: 10 * 60,
        IdToken: 60 * 60,
        Interaction: 10 * 60,
        Session: 8 * 60 * 60,
        Grant: 8 * 60 * 60,
      },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          async logoutSource(ctx, form) {
            setPageHeaders(ctx);
            ctx.body = logoutPage(raw(form), ctx.oidc.client?.clientName);
          },
          async postLogoutSuccessSource(ctx) {
            setPageHeaders(ctx);
            ctx.body = signedOutPage(ctx.oidc.client?.clientName);
          },
        },
      },
      interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
      async findAccount(_ctx, sub) {
        const account = accounts.findById(sub);
        if (account === undefined) return undefined;
        return {
          accountId: account.accountId,
          // oidc-provider filters these down to what the granted scopes allow.
          claims: async () => ({
            sub: account.accountId,
            email: account.email,
            email_verified: account.emailVerified,
            name: account.name,
            // "Ada Admin": given name Ada, family name Admin.
            given_name: account.name.split(" ")[0],
            family_name: account.name.split(" ").slice(1).join(" ") || undefined,
            ...(account.groups && !account.groupsOverage ? { groups: [...account.groups] } : {}),
            ...(account.groupsOverage
              ? {
                  _claim_names: { groups: "src1" },
                  _claim_sources: {
                    src1: { endpoint: "https://graph.microsoft.com/v1.0/users/me/getMemberObjects" },
                  },
                }
              : {}),
          }),
        };
      },
      // Gatehouse talks to the token endpoint from its server, never from a browser.
      clientBasedCORS: () => false,
      async renderError(ctx, out) {
        setPageHeaders(ctx);
        const details: [string, string][] = [["error", out.error]];
        if (out.error_description !== undefined) details.push(["error_description", out.error_description]);
        ctx.body = messagePage(
          "Something went wrong",
          "The Development IdP could not handle this request.",
          details,
        );
      },
    });

    // A rotation builds a new provider around the new key; sessions, grants and codes live in
    // oidc-provider's process-wide memory adapter and its cookies keep their keys, so
    // everything issued before the rotation still works.
    const build = () => {
      const unmute = muteIrrelevantWarnings();
      let provider: InstanceType<typeof Provider>;
      try {
        provider = new Provider(issuer, configure());
      } finally {
        unmute();
      }
      provider.use(quirkMiddleware(quirks));
      provider.use(
        interactionRoutes({
          provider,
          accounts,
          clients: clientDisplay,
          SessionNotFound: errors.SessionNotFound,
        }),
      );
      provider.on("server_error", (_ctx, error) => {
        console.error("dev-idp: internal error", error);
      });
      return provider.callback();
    };
    let handler = build();
    server.on("request", (req, res) => handler(req, res));

    let closing: Promise<void> | undefined;
    return {
      issuer,
      port,
      async rotateSigningKey() {
        jwk = await signingKey();
        handler = build();
      },
      changeEmail(sub, email) {
        accounts.changeEmail(sub, email);
      },
      setClientSecret(clientId, secret) {
        const client = clients.find((c) => c.clientId === clientId);
        if (!client) throw new Error(`dev-idp: no client ${clientId}`);
        client.clientSecret = secret;
        handler = build();
      },
      close: () => {
        closing ??= closeServer(server);
        return closing;
      },
    };
  } catch (error) {
    await closeServer(server);
    throw error;
  }
}
