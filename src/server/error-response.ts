import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { newTraceId } from "../crypto/tokens.js";
import { errorSpec } from "../error-registry.js";
import { remedyOf } from "../error-remedy.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import { currentSession } from "../session/validate.js";
import { isDatabaseUnavailable } from "../store/availability.js";
import { errorPage } from "../web/error-page.js";
import type { AppContext } from "./context.js";
import { pathOnly } from "./log.js";
import { noteOnRequestLine } from "./request-log.js";

/**
 * The one error boundary: every refusal that answers with an error (not a form shown again
 * with its fields) is rendered here, as JSON for the API and as a page for people, with the
 * status and words of the code's entry in the registry (src/error-registry.ts).
 */

/** Anything thrown, as a GatehouseError: framework and database errors get their codes here. */
export function toGatehouseError(error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  const fastify = error as Partial<FastifyError> | undefined;
  if (fastify?.code === "FST_CSRF_INVALID_TOKEN" || fastify?.code === "FST_CSRF_MISSING_SECRET") {
    return new GatehouseError("CSRF_INVALID", "The form's security token is missing or invalid.", {
      cause: error,
    });
  }
  const status = fastify?.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new GatehouseError(
      "REQUEST_INVALID",
      fastify?.validation ? "The request is invalid." : "The request could not be read.",
      { detail: fastify?.code, cause: error },
    );
  }
  if (isDatabaseUnavailable(error)) {
    return new GatehouseError("SERVICE_UNAVAILABLE", "The database is not reachable right now.", {
      cause: error,
    });
  }
  return new GatehouseError("INTERNAL", "Internal error", { cause: error });
}

export function wantsJson(request: FastifyRequest): boolean {
  const path = pathOnly(request.url);
  // /metrics is read by a scraper, never a person: a refusal is JSON, not a sign-in page.
  return path.startsWith("/api/") || path === "/metrics";
}

/**
 * The HTTP status of a refusal: the registry's; a malformed request keeps the 4xx the framework
 * chose (413 for a body too large, 415 for a content type it cannot read).
 */
export function statusOf(error: GatehouseError): number {
  if (error.code === "REQUEST_INVALID") {
    const cause = error.cause as { statusCode?: number } | undefined;
    const status = cause?.statusCode;
    if (typeof status === "number" && status >= 400 && status < 500) return status;
  }
  return error.status;
}

/**
 * The JSON body of a refusal: the code, a message safe to show, per-field messages, and for a
 * refusal that has a remedy (src/error-remedy.ts) `retryable`: false when the same refusal will
 * come back until an administrator changes the connection or its provider.
 */
export function errorBody(error: GatehouseError, traceId?: string): Record<string, unknown> {
  const internal = statusOf(error) >= 500;
  const remedy = remedyOf(error);
  return {
    code: error.code,
    message: internal ? errorSpec("INTERNAL").title : error.message,
    ...(error.fields ? { fields: error.fields } : {}),
    ...(remedy ? { retryable: remedy === "retry" } : {}),
    ...(traceId ? { traceId } : {}),
  };
}

export interface ErrorResponseOptions {
  /** A reference the person can hand to their admin; made here for 5xx answers when absent. */
  traceId?: string | undefined;
  /** The reference code is in the organization's sign-in activity (else only in Gatehouse's logs). */
  traceListed?: boolean | undefined;
  /** A line under the title for this person only; plain text, escaped on the page. */
  message?: string | undefined;
  /** Where the page's main button leads. */
  next?: { href: string; label: string } | undefined;
  /** A second button, a form POSTed with a CSRF token (back to the application that asked). */
  back?: { action: string; label: string } | undefined;
  /** Answer JSON even outside /api/ (public JSON documents such as a JWKS). */
  json?: boolean | undefined;
  /** Already logged (a sign-in refusal notes its own request line). */
  logged?: boolean | undefined;
  /** A page without the account bar: a sign-in that failed is shown as nobody's. */
  anonymous?: boolean | undefined;
  /**
   * False: the page keeps the code's own words whatever the refusal's remedy. LinkedIn's client
   * is the operator's, not an organization administrator's connection.
   */
  remedy?: boolean | undefined;
}

export async function sendError(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  error: GatehouseError,
  options: ErrorResponseOptions = {},
): Promise<FastifyReply> {
  const status = statusOf(error);
  // A reference code only where a person needs one; random bytes for every request would cost.
  const traceId = options.traceId ?? (status >= 500 ? newTraceId() : undefined);
  if (!options.logged) noteRefusal(request, error, status, traceId);
  if (status === 503) reply.header("retry-after", "5");
  reply.status(status);
  if (options.json || wantsJson(request)) {
    return reply.type("application/json").send(errorBody(error, traceId));
  }
  let session: Awaited<ReturnType<typeof currentSession>>;
  try {
    session = options.anonymous ? undefined : await currentSession(ctx, request);
  } catch {
    session = undefined;
  }
  return reply.type("text/html; charset=utf-8").send(
    errorPage({
      code: error.code,
      session,
      csrfToken: session || options.back ? reply.generateCsrf() : undefined,
      traceId,
      traceListed: options.traceListed ?? false,
      message: options.message,
      remedy: options.remedy === false ? undefined : remedyOf(error),
      next: options.next,
      back: options.back,
    }),
  );
}

function noteRefusal(request: FastifyRequest, error: GatehouseError, status: number, traceId?: string): void {
  if (status === 503)
    noteOnRequestLine(request, { code: error.code, err: error.cause ?? error, traceId }, "warn");
  else if (status >= 500)
    noteOnRequestLine(request, { code: error.code, err: error.cause ?? error, traceId }, "error");
  else noteOnRequestLine(request, { code: error.code, detail: error.detail });
}
