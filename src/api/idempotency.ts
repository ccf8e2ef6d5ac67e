import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { newId } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  idempotencyContext,
  releaseIdempotencyKey,
} from "../store/idempotency-keys.js";
import { type ApiCaller, apiCaller } from "./auth.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** A create that honours the `Idempotency-Key` header. */
    idempotent?: boolean;
  }
}

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A first request still unanswered after this long died with its connection or instance. */
const ABANDONED_AFTER_MS = 5 * 60 * 1000;

/**
 * `Idempotency-Key` on creates. The first request with a key claims it for its caller (API key,
 * operator key or signed-in user); its 2xx answer is kept, sealed, for 24 hours and answered
 * again to a retry with the same method, path and body (`idempotent-replayed: true`). The same
 * key with another request answers 422; while the first still runs, 409. A failed first request
 * releases the key, so a retry runs again.
 *
 * The hooks are added to the routes marked `idempotent` only (they must be registered after
 * this call), so no other request pays for them.
 */
export function registerIdempotency(api: FastifyInstance, ctx: AppContext): void {
  const claimed = new WeakMap<FastifyRequest, string>();

  const claim = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers["idempotency-key"];
    if (typeof key !== "string") return;
    const id = newId();
    const requestHash = fingerprint(request);
    const existing = await claimIdempotencyKey(
      ctx.store.db,
      { id, caller: callerScope(apiCaller(request)), key, requestHash },
      ctx.now(),
      IDEMPOTENCY_TTL_MS,
      ABANDONED_AFTER_MS,
    );
    if (!existing) {
      claimed.set(request, id);
      return;
    }
    if (existing.requestHash !== requestHash) {
      throw new GatehouseError(
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was sent with another request; use a new key for a new request.",
        { fields: { "idempotency-key": "Already used with another request." } },
      );
    }
    if (existing.statusCode === null || existing.responseSealed === null) {
      throw new GatehouseError(
        "IDEMPOTENCY_KEY_IN_USE",
        "A request with this Idempotency-Key is still running; retry in a moment.",
      );
    }
    const stored = JSON.parse(ctx.box.open(existing.responseSealed, idempotencyContext(existing.id))) as {
      body: string;
      location: string | null;
    };
    reply.code(existing.statusCode).type("application/json").header("idempotent-replayed", "true");
    if (stored.location) reply.header("location", stored.location);
    return reply.send(stored.body);
  };

  const keep = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const id = claimed.get(request);
    if (id === undefined) return payload;
    claimed.delete(request);
    try {
      if (reply.statusCode >= 200 && reply.statusCode < 300 && typeof payload === "string") {
        const location = reply.getHeader("location");
        const response = JSON.stringify({
          body: payload,
          location: typeof location === "string" ? location : null,
        });
        await completeIdempotencyKey(
          ctx.store.db,
          id,
          reply.statusCode,
          ctx.box.seal(response, idempotencyContext(id)),
        );
      } else {
        await releaseIdempotencyKey(ctx.store.db, id);
      }
    } catch (error) {
      // The create happened: answer it. A retry then runs again once the claim is abandoned.
      request.log.warn({ err: error }, "keeping the answer for an Idempotency-Key failed");
    }
    return payload;
  };

  api.addHook("onRoute", (route) => {
    if (!route.config?.idempotent) return;
    route.preHandler = [...hookList(route.preHandler), claim];
    route.onSend = [...hookList(route.onSend), keep];
  });
}

function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

function callerScope(caller: ApiCaller): string {
  if (caller.kind === "session") return `session:${caller.session.userId}`;
  return `${caller.kind}:${caller.keyId}`;
}

/** Method, path and body, the body in a canonical form: the same JSON in another order is the same request. */
function fingerprint(request: FastifyRequest): string {
  const path = request.url.split("?")[0] ?? "";
  return createHash("sha256")
    .update(`${request.method} ${path}\n${canonicalJson(request.body ?? null)}`)
    .digest("base64url");
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
