/**
 * oidc-provider ships no type declarations and @types/oidc-provider is not installed, so this
 * covers only the parts of its API the development IdP uses. Widen it as usage grows.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";
  import type { JWK } from "jose";

  /** The Koa context (oidc-provider is a Koa application). */
  export interface KoaContext {
    method: string;
    path: string;
    req: IncomingMessage;
    res: ServerResponse;
    status: number;
    type: string;
    body: unknown;
    /** Koa's parsed query string; assigning it rewrites the request's query string. */
    query: Record<string, string | string[] | undefined>;
    get(field: string): string;
    set(field: string, value: string): void;
    redirect(url: string): void;
  }

  export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  export interface ClientInfo {
    readonly clientId: string;
    readonly clientName?: string;
  }

  export interface SessionInfo {
    readonly accountId?: string;
    grantIdFor(clientId: string): string | undefined;
  }

  /** `ctx.oidc` inside the provider's own routes and configuration hooks. */
  export interface OidcContext {
    readonly provider: Provider;
    readonly client?: ClientInfo;
    readonly session?: SessionInfo;
    readonly result?: { consent?: { grantId?: string } };
  }

  export interface ProviderContext extends KoaContext {
    readonly oidc: OidcContext;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<{ sub: string; [claim: string]: unknown }>;
  }

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
    readonly prompt: InteractionPrompt;
    readonly params: Record<string, unknown>;
    readonly session?: { accountId: string };
    readonly grantId?: string;
  }

  export type InteractionResults =
    | { login: { accountId: string }; consent?: { grantId: string } }
    | { consent: { grantId: string } }
    | { error: string; error_description?: string };

  export interface Grant {
    readonly accountId: string;
    readonly clientId: string;
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

  export type TtlValue = number | ((ctx: ProviderContext, token: unknown, client: unknown) => number);

  export interface Configuration {
    clients: ClientMetadata[];
    jwks: { keys: JWK[] };
    cookies: { keys: string[] };
    claims: Record<string, string[] | null>;
    scopes: string[];
    responseTypes: string[];
    clientAuthMethods: string[];
    conformIdTokenClaims: boolean;
    pkce: { required: (ctx: ProviderContext, client: ClientInfo) => boolean };
    ttl: Partial<
      Record<"AccessToken" | "AuthorizationCode" | "Grant" | "IdToken" | "Interaction" | "Session", TtlValue>
    >;
    features: {
      devInteractions: { enabled: boolean };
      rpInitiatedLogout: {
        enabled: boolean;
        logoutSource: (ctx: ProviderContext, form: string) => Promise<void>;
        postLogoutSuccessSource: (ctx: ProviderContext) => Promise<void>;
      };
    };
    interactions: { url: (ctx: ProviderContext, interaction: Interaction) => Promise<string> };
    findAccount: (ctx: ProviderContext, sub: string, token?: unknown) => Promise<Account | undefined>;
    loadExistingGrant: (ctx: ProviderContext) => Promise<Grant | undefined>;
    clientBasedCORS: (ctx: ProviderContext, origin: string, client: ClientInfo) => boolean;
    renderError: (ctx: ProviderContext, out: ErrorOut, error: Error) => Promise<void>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Partial<Configuration>);
    readonly issuer: string;
    readonly Grant: GrantConstructor;
    readonly Client: { find(id: string): Promise<ClientInfo | undefined> };
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
  }

  export const errors: {
    /** Thrown by interactionDetails/interactionResult when the interaction cookie or record is gone. */
    SessionNotFound: new (
      ...args: never[]
    ) => Error;
  };

  export default Provider;
}
