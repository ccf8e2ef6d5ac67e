import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { type ActiveSession, currentSession, isAdmin } from "../session/validate.js";
import {
  findApiKeyByHash,
  findOperatorApiKeyByHash,
  touchApiKey,
  touchOperatorApiKey,
} from "../store/api-keys.js";
import { API_KEY_PREFIX, OPERATOR_KEY_PREFIX } from "./keys.js";

/** Who is calling the API. Every answer is scoped to `organizationId`. */
export type ApiCaller =
  | {
      kind: "api_key";
      organizationId: string;
      organizationSlug: string;
      organizationName: string;
      keyId: string;
      keyName: string;
    }
  | { kind: "session"; organizationId: string | null; session: ActiveSession }
  | { kind: "operator_key"; organizationId: null; keyId: string; keyName: string };

/**
 * What a route lets in: organization admins (by key or session); any signed-in session too; or
 * only operator keys, which act for the deployment and never inside one organization's routes.
 */
export type Access = "admin" | "any" | "operator" | "admin_or_operator";

// Writing last_used_at on every request would turn each API read into a write.
const TOUCH_INTERVAL_MS = 60_000;
const KEY_SHAPE = new RegExp(`^${API_KEY_PREFIX}[A-Za-z0-9_-]{20,200}$`);
const OPERATOR_KEY_SHAPE = new RegExp(`^${OPERATOR_KEY_PREFIX}[A-Za-z0-9_-]{20,200}$`);

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

declare module "fastify" {
  interface FastifyRequest {
    /** Who the API route's authentication admitted; declared by `buildApp`. */
    apiCaller: ApiCaller | null;
  }
}

/** The caller the route's authentication hook admitted. */
export function apiCaller(request: FastifyRequest): ApiCaller {
  const caller = request.apiCaller;
  if (!caller) throw new GatehouseError("INTERNAL", "API route registered without authentication");
  return caller;
}

/** The caller's organization, for routes that only admit organization admins. */
export function callerOrganizationId(request: FastifyRequest): string {
  const { organizationId } = apiCaller(request);
  if (!organizationId) throw new GatehouseError("INTERNAL", "admin caller without an organization");
  return organizationId;
}

/** The operator key the route's `operator` access admitted. */
export function callerOperatorKey(request: FastifyRequest): { keyId: string; keyName: string } {
  const caller = apiCaller(request);
  if (caller.kind !== "operator_key")
    throw new GatehouseError("INTERNAL", "operator route without operator access");
  return { keyId: caller.keyId, keyName: caller.keyName };
}

/** The user acting, for the audit log; API keys act for no user. */
export function callerUserId(request: FastifyRequest): string | null {
  const caller = apiCaller(request);
  return caller.kind === "session" ? caller.session.userId : null;
}

/**
 * The hooks that admit a request: authentication first, then — for session cookies only, since
 * a browser sends them on its own — the CSRF token on state-changing methods. A bearer key is
 * never sent ambiently, so it needs no CSRF token. Routes run them as `preValidation`, so a
 * caller who may not call the route learns nothing from its validation errors.
 */
export function apiAuthentication(
  app: FastifyInstance,
  ctx: AppContext,
  access: Access,
): [
  (request: FastifyRequest, reply: FastifyReply) => Promise<void>,
  (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void,
] {
  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    request.apiCaller = await authenticateRequest(ctx, request, reply, access);
  };
  const checkCsrf = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (request.apiCaller?.kind === "session" && !SAFE_METHODS.has(request.method)) {
      app.csrfProtection(request, reply, done);
      return;
    }
    done();
  };
  return [authenticate, checkCsrf];
}

async function authenticateRequest(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  access: Access,
): Promise<ApiCaller> {
  const authorization = request.headers.authorization;
  // An Authorization header decides alone: a bad key never falls back to the cookie.
  if (authorization !== undefined) {
    const caller = await authenticateKey(ctx, reply, authorization);
    if (access === "operator" && caller.kind !== "operator_key") {
      throw new GatehouseError(
        "AUTH_FORBIDDEN",
        "This needs an operator API key (gatehouse apikey create --operator).",
      );
    }
    if (access === "admin" && caller.kind === "operator_key") {
      throw new GatehouseError(
        "AUTH_FORBIDDEN",
        "Operator keys act for the deployment; use an organization's API key for its resources.",
      );
    }
    return caller;
  }
  const session = await currentSession(ctx, request);
  if (access === "operator") {
    // A signed-in person is authenticated, only not as the operator: refused, not challenged.
    if (session) {
      throw new GatehouseError(
        "AUTH_FORBIDDEN",
        "This needs an operator API key (gatehouse apikey create --operator); a session cannot do this.",
      );
    }
    reply.header("www-authenticate", `Bearer realm="gatehouse"`);
    throw new GatehouseError(
      "AUTH_UNAUTHENTICATED",
      "Send an operator API key as Authorization: Bearer <key>.",
    );
  }
  if (!session) {
    reply.header("www-authenticate", `Bearer realm="gatehouse"`);
    throw new GatehouseError(
      "AUTH_UNAUTHENTICATED",
      "Sign in, or send an API key as Authorization: Bearer <key>.",
    );
  }
  if (access !== "any" && !(isAdmin(session) && session.organizationId)) {
    throw new GatehouseError("AUTH_FORBIDDEN", "Only an organization's owners and admins can do this.");
  }
  return { kind: "session", organizationId: session.organizationId, session };
}

async function authenticateKey(ctx: AppContext, reply: FastifyReply, header: string): Promise<ApiCaller> {
  const refuse = (reason: string) => {
    // RFC 6750 §3.1: invalid_token for a malformed, unknown or revoked token.
    reply.header("www-authenticate", `Bearer realm="gatehouse", error="invalid_token"`);
    return new GatehouseError("AUTH_UNAUTHENTICATED", "The API key is malformed, unknown or revoked.", {
      detail: reason,
    });
  };
  const match = /^Bearer +(\S+) *$/i.exec(header);
  const key = match?.[1];
  if (!key) throw refuse("authorization header is not a bearer token");
  if (key.startsWith(OPERATOR_KEY_PREFIX)) {
    if (!OPERATOR_KEY_SHAPE.test(key)) throw refuse("bearer token does not have the shape of an API key");
    // Looked up on every request, never cached: a revoked key stops on every instance at once.
    const operatorKey = await findOperatorApiKeyByHash(ctx.store.db, hashToken(key));
    if (!operatorKey) throw refuse("operator API key unknown or revoked");
    const now = ctx.now();
    if (operatorKey.lastUsedAt === null || now - operatorKey.lastUsedAt >= TOUCH_INTERVAL_MS) {
      await touchOperatorApiKey(ctx.store.db, operatorKey.id, now, TOUCH_INTERVAL_MS);
    }
    return { kind: "operator_key", organizationId: null, keyId: operatorKey.id, keyName: operatorKey.name };
  }
  if (!KEY_SHAPE.test(key)) throw refuse("bearer token does not have the shape of an API key");
  const found = await findApiKeyByHash(ctx.store.db, hashToken(key));
  if (!found) throw refuse("API key unknown or revoked");

  const now = ctx.now();
  if (found.lastUsedAt === null || now - found.lastUsedAt >= TOUCH_INTERVAL_MS) {
    await touchApiKey(ctx.store.db, found.id, now, TOUCH_INTERVAL_MS);
  }
  return {
    kind: "api_key",
    organizationId: found.organizationId,
    organizationSlug: found.organizationSlug,
    organizationName: found.organizationName,
    keyId: found.id,
    keyName: found.name,
  };
}
