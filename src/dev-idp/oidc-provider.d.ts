/**
 * oidc-provider ships no type declarations and @types/oidc-provider is not installed, so this
 * covers only the parts of its API the development IdP and Gatehouse's own OpenID Provider
 * (src/provider) use. Widen it as usage grows.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";
  import type { JWK } from "jose";

  /** The Koa context (oidc-provider is a Koa application). */
  export interface KoaContext {
    method: string;
    path: string;
    url: string;
    secure: boolean;
    response: { get(field: string): string };
    req: IncomingMessage;
    res: ServerResponse;
    status: number;
    type: string;
    body: unknown;
    /** Koa's parsed query string; assigning it rewrites the request's query string. */
    query: Record<string, string | string[] | undefined>;
    get(field: string): string;
    set(field: string, value: string): void;
    append(field: string, value: string): void;
    redirect(url: string): void;
  }

  export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  export interface ClientInfo {
    readonly clientId: string;
    readonly clientName?: string;
    readonly clientAuthMethod?: string;
    readonly backchannelLogoutUri?: string;
    readonly postLogoutRedirectUris?: string[];
    /** Signs a logout token for `sub` (and `sid`) and POSTs it to the back-channel logout URI. */
    backchannelLogout(sub: string, sid: string): Promise<void>;
  }

  export interface SessionInfo {
    readonly uid: string;
    readonly accountId?: string;
    readonly loginTs?: number;
    grantIdFor(clientId: string): string | undefined;
    sidFor(clientId: string): string | undefined;
    ensureClientContainer(clientId: string): void;
  }

  /** `ctx.oidc` inside the provider's own routes and configuration hooks. */
  export interface OidcContext {
    readonly provider: Provider;
    readonly client?: ClientInfo;
    readonly session?: SessionInfo;
    readonly result?: { consent?: { grantId?: string }; login?: { accountId: string } };
    readonly params?: Record<string, unknown>;
    readonly route?: string;
    readonly requestParamScopes: Set<string>;
    readonly requestParamClaims?: Set<string>;
  }

  export interface ProviderContext extends KoaContext {
    readonly oidc: OidcContext;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<{ sub: string; [claim: string]: unknown }>;
  }

  /** The token findAccount is asked about (an authorization code, access or refresh token). */
  export interface FindAccountToken {
    readonly clientId?: string;
    readonly sessionUid?: string;
    readonly grantId?: string;
  }

  export type AdapterPayload = Record<string, unknown>;

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientMetadataInput {
    client_id: string;
    client_secret?: string;
    client_name?: string;
    /** `native`: RFC 8252's redirect URIs; loopback ones match on any port. Default `web`. */
    application_type?: "web" | "native";
    redirect_uris: string[];
    post_logout_redirect_uris: string[];
    grant_types: string[];
    response_types: string[];
    token_endpoint_auth_method: string;
    jwks_uri?: string;
    backchannel_logout_uri?: string;
    backchannel_logout_session_required?: boolean;
    require_auth_time?: boolean;
  }

  export class Check {
    constructor(
      reason: string,
      description: string,
      error: string,
      check: (ctx: ProviderContext) => boolean | Promise<boolean>,
    );
    static readonly REQUEST_PROMPT: true;
    static readonly NO_NEED_TO_PROMPT: false;
  }

  export interface Prompt {
    readonly name: string;
    readonly checks: Check[];
  }

  export interface InteractionPolicy extends Array<Prompt> {
    get(name: string): Prompt | undefined;
  }

  export const interactionPolicy: { base(): InteractionPolicy; Check: typeof Check };

  export interface ClientMetadata {
    client_id: string;
    client_secret: string;
    client_name?: string;
    redirect_uris: string[];
    post_logout_redirect_uris: string[];
    grant_types: string[];
    response_types: string[];
    token_endpoint_auth_method: string;
  }

  export interface InteractionPrompt {
    name: string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  }

  export interface Interaction {
    readonly uid: string;
    /** Seconds since the epoch. */
    readonly iat: number;
    readonly returnTo: string;
    readonly prompt: InteractionPrompt;
    readonly params: Record<string, unknown>;
    readonly session?: { accountId: string };
    readonly grantId?: string;
  }

  export interface LoginResult {
    accountId: string;
    /** auth_time, seconds since the epoch. */
    ts?: number;
    amr?: string[];
    acr?: string;
    remember?: boolean;
  }

  export type InteractionResults =
    | { login: LoginResult; consent?: { grantId: string } }
    | { consent: { grantId: string } }
    | { error: string; error_description?: string };

  export interface Grant {
    readonly accountId: string;
    readonly clientId: string;
    readonly jti: string;
    getOIDCScope(): string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface ErrorOut {
    error: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export interface RpInitiatedLogout {
    enabled: boolean;
    logoutSource?: (ctx: ProviderContext, form: string) => Promise<void>;
    postLogoutSuccessSource?: (ctx: ProviderContext) => Promise<void>;
  }

  export type TtlValue = number | ((ctx: ProviderContext, token: unknown, client: unknown) => number);

  export interface Configuration {
    adapter: new (model: string) => Adapter;
    clients: ClientMetadataInput[];
    jwks: { keys: JWK[] };
    cookies: {
      keys: string[];
      long?: Record<string, unknown>;
      short?: Record<string, unknown>;
      names?: Record<string, string>;
    };
    claims: Record<string, string[] | null>;
    scopes: string[];
    responseTypes: string[];
    clientAuthMethods: string[];
    conformIdTokenClaims: boolean;
    extraParams: string[];
    routes: Record<string, string>;
    pkce: { required: (ctx: ProviderContext, client: ClientInfo) => boolean };
    ttl: Partial<
      Record<
        | "AccessToken"
        | "AuthorizationCode"
        | "Grant"
        | "IdToken"
        | "Interaction"
        | "RefreshToken"
        | "Session",
        TtlValue
      >
    >;
    features: {
      devInteractions?: { enabled: boolean };
      rpInitiatedLogout?: RpInitiatedLogout;
      backchannelLogout?: { enabled: boolean };
      resourceIndicators?: { enabled: boolean };
      requestObjects?: { enabled: boolean };
      revocation?: { enabled: boolean };
      introspection?: { enabled: boolean };
      userinfo?: { enabled: boolean };
      claimsParameter?: { enabled: boolean };
      pushedAuthorizationRequests?: { enabled: boolean };
    };
    interactions: {
      url: (ctx: ProviderContext, interaction: Interaction) => Promise<string>;
      policy?: InteractionPolicy;
    };
    findAccount: (
      ctx: ProviderContext,
      sub: string,
      token?: FindAccountToken,
    ) => Promise<Account | undefined>;
    loadExistingGrant: (ctx: ProviderContext) => Promise<Grant | undefined>;
    fetch: (url: URL | string, options: RequestInit & { dispatcher?: unknown }) => Promise<Response>;
    rotateRefreshToken: boolean | ((ctx: ProviderContext) => boolean);
    allowOmittingSingleRegisteredRedirectUri: boolean;
    clientBasedCORS: (ctx: ProviderContext, origin: string, client: ClientInfo) => boolean;
    renderError: (ctx: ProviderContext, out: ErrorOut, error: Error) => Promise<void>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Partial<Configuration>);
    readonly issuer: string;
    readonly Grant: GrantConstructor;
    readonly Client: { find(id: string): Promise<ClientInfo | undefined>; readonly prototype: ClientInfo };
    /** Trust X-Forwarded-* (Koa's `app.proxy`). */
    proxy: boolean;
    /** Registered middleware runs before the provider's own routes. */
    use(middleware: KoaMiddleware): this;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: "server_error", listener: (ctx: KoaContext, error: Error) => void): this;
    on(event: string, listener: (...args: never[]) => void): this;
  }

  export const errors: {
    /** Thrown by interactionDetails/interactionResult when the interaction cookie or record is gone. */
    SessionNotFound: new (
      ...args: never[]
    ) => Error;
  };

  export default Provider;
}
