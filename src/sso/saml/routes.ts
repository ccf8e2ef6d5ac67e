import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
import { shouldRecordRefusal } from "../../audit/refusals.js";
import { newTraceId } from "../../crypto/tokens.js";
import { isUuid } from "../../domain/ids.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { completeSignIn } from "../../sign-in/complete.js";
import { renderSignInResult } from "../../sign-in/result-page.js";
import { insertAuditEvent } from "../../store/audit.js";
import { findConnectionById, type SamlConnection } from "../../store/connections.js";
import { autoPostPage } from "../../web/auto-post.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./inbound-message.js";
import { generateSpMetadata } from "./service-provider.js";
import { receiveSingleLogout } from "./single-logout.js";
import { serviceProviderOf } from "./stored-settings.js";

/**
 * A SAMLResponse of the largest size accepted (256 KiB decoded) is about 350 KB of base64 and
 * a little more form-encoded; larger bodies are refused before the form parser runs.
 */
const ACS_BODY_LIMIT = 2 * DEFAULT_MAX_MESSAGE_BYTES;

/**
 * The per-connection SAML routes. `{connection}` is the connection's id, so every URL the IdP
 * holds stays the same when the connection is renamed or edited.
 *
 *   GET  /sso/saml/{connection}/metadata      the SP metadata (also the SP Entity ID)
 *   POST /sso/saml/{connection}/acs           the ACS URL: the IdP's HTTP-POST of the SAMLResponse
 *   POST /sso/saml/{connection}/acs/continue  the same answer, posted again from Gatehouse's origin
 *   GET  /sso/saml/{connection}/slo           single logout (HTTP-Redirect)
 *
 * Why the ACS answers with a page that posts the response on: the IdP's POST is cross-site, and
 * browsers do not send SameSite=Lax cookies on a cross-site POST, so the cookie that binds the
 * sign-in to the browser that began it is missing there. The page posts the same fields to
 * `acs/continue` from Gatehouse's own origin, a same-site request that carries the cookie, and
 * the sign-in pipeline checks the binding as for every protocol. The alternative, a
 * SameSite=None binding cookie, would be sent on every cross-site request and weaken the login
 * CSRF protection for all sign-ins; holding the response server-side behind a redirect would
 * let anyone write unauthenticated rows. Neither route has a CSRF token: the IdP cannot send one,
 * and the browser binding is what refuses a response planted in another browser.
 */
export function registerSamlRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/sso/saml/:connection/metadata", async (request, reply) => {
    const connection = await samlConnectionOf(ctx, request);
    const sp = serviceProviderOf(ctx.box, ctx.config.baseUrl.toString(), connection.id, connection.saml);
    return reply
      .type("application/samlmetadata+xml; charset=utf-8")
      .header("cache-control", "no-cache")
      .send(generateSpMetadata(sp));
  });

  // A body over the limit never reaches the handler; the refusal is still audited, once per
  // address and window (src/audit/refusals.ts), so a flood of them cannot grow the database.
  const acsOptions = {
    bodyLimit: ACS_BODY_LIMIT,
    onError: async (request: FastifyRequest, _reply: unknown, error: FastifyError) => {
      if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") await auditOversizedBody(ctx, request);
    },
  };

  app.post("/sso/saml/:connection/acs", acsOptions, async (request, reply) => {
    const connectionId = acsConnectionId(request);
    const fields: Record<string, string> = {};
    const body =
      request.body && typeof request.body === "object" ? (request.body as Record<string, unknown>) : {};
    for (const name of ["SAMLResponse", "RelayState"]) {
      const value = body[name];
      if (typeof value === "string") fields[name] = value;
    }
    return reply
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8")
      .send(autoPostPage(`/sso/saml/${encodeURIComponent(connectionId)}/acs/continue`, fields));
  });

  app.post("/sso/saml/:connection/acs/continue", acsOptions, async (request, reply) => {
    const adapter = ctx.signIn.get(ctx, "saml");
    const result = await completeSignIn(ctx, request, reply, adapter, {
      connectionId: acsConnectionId(request),
    });
    return renderSignInResult(ctx, reply, result, "password");
  });

  app.get("/sso/saml/:connection/slo", async (request, reply) => {
    const connection = await samlConnectionOf(ctx, request);
    const next = await receiveSingleLogout(ctx, request, connection);
    return reply.header("cache-control", "no-store").redirect(next, 303);
  });
}

/**
 * The ACS URL's id. It need not name a saved connection: the Setup page shows the ACS URL of
 * the id reserved before Create, and a test of the form's values comes back to it. The
 * pipeline decides from the sign-in transaction whether the answer belongs to this endpoint
 * (a saved connection's sign-in, or a test of the connection with this id); any other is
 * refused and audited there, so a well-formed id is all the route asks for.
 */
function acsConnectionId(request: FastifyRequest): string {
  const id = (request.params as { connection?: unknown }).connection;
  if (!isUuid(id)) throw new GatehouseError("CONNECTION_NOT_FOUND", "No such SAML connection.");
  return id;
}

async function samlConnectionOf(ctx: AppContext, request: FastifyRequest): Promise<SamlConnection> {
  const id = (request.params as { connection?: unknown }).connection;
  const connection =
    typeof id === "string" && id.length <= 100 ? await findConnectionById(ctx.store.db, id) : undefined;
  if (connection?.protocol !== "saml") {
    throw new GatehouseError("CONNECTION_NOT_FOUND", "No such SAML connection.");
  }
  return connection;
}

async function auditOversizedBody(ctx: AppContext, request: FastifyRequest): Promise<void> {
  try {
    const connection = await samlConnectionOf(ctx, request).catch(() => undefined);
    if (!(await shouldRecordRefusal(ctx, request.ip, "sign_in.sso:SSO_SAML_RESPONSE_INVALID:size"))) return;
    await insertAuditEvent(
      ctx.store.db,
      {
        type: "sign_in.sso",
        outcome: "failure",
        organizationId: connection?.organizationId ?? null,
        connectionId: connection?.id ?? null,
        reasonCode: "SSO_SAML_RESPONSE_INVALID",
        detail: {
          check: "message-size",
          expected: `a body of at most ${ACS_BODY_LIMIT} bytes`,
          received: `${request.headers["content-length"] ?? "an unknown number of"} bytes`,
        },
        traceId: newTraceId(),
        ip: request.ip,
      },
      ctx.now(),
    );
  } catch (error) {
    request.log.error({ err: error }, "could not record a refused SAML response");
  }
}
