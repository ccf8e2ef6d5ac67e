import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createConnection } from "../../connections/create.js";
import {
  deleteConnection,
  disableConnection,
  enableConnection,
  signOutConnectionSessions,
} from "../../connections/delete.js";
import { callbackUrl, homePageUrl, toConnectionView } from "../../connections/view.js";
import { isUuid } from "../../domain/ids.js";
import { listDomainViews } from "../../domains/view.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { type AuditEvent, listAuditEvents } from "../../store/audit.js";
import { findConnection, listConnections } from "../../store/connections.js";
import { listDomains } from "../../store/domains.js";
import { countSessionsForConnection } from "../../store/sessions.js";
import { textField } from "../../web/form.js";
import { adminPaths, sendHtml } from "../components.js";
import { adminSession, requireAdmin } from "../guard.js";
import { emptyConnectionForm, readConnectionForm, toFormRefusal } from "./connection-form.js";
import { deleteConfirmPage } from "./delete.js";
import { introPage } from "./intro.js";
import {
  createdLocation,
  deletedLocation,
  readOidcNotices,
  renderOidcNotices,
  statusLocation,
} from "./notices.js";
import { connectionPage } from "./oidc-connection.js";
import { setupPage } from "./oidc-setup.js";
import { ACTIVITY_LIMIT } from "./sign-in-activity.js";
import { integrationState } from "./state.js";
import { disableConfirmPage, signOutEveryonePage, statusPaths } from "./status.js";
import { formValuesFromTest, registerTestSignInRoutes } from "./test-routes.js";

/** Connection ids are UUIDs; anything else cannot name one, so it is simply not found. */
function connectionIdParam(params: unknown): string {
  const id = (params as { id?: unknown }).id;
  if (!isUuid(id)) {
    throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
  }
  return id;
}

export function registerEnterpriseAuthenticationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admin = requireAdmin(ctx);
  registerTestSignInRoutes(app, ctx);

  app.get(adminPaths.enterpriseAuthentication, { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const [connections, domains] = await Promise.all([
      listConnections(ctx.store.db, session.organizationId),
      listDomains(ctx.store.db, session.organizationId),
    ]);
    const domainCounts = { verified: 0, pending: 0, failing: 0 };
    for (const d of domains) domainCounts[d.state] += 1;
    return sendHtml(
      reply,
      introPage({
        session,
        csrfToken: reply.generateCsrf(),
        oidcState: integrationState(connections),
        domainCounts,
      }),
    );
  });

  app.get(adminPaths.oidc, { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const connections = await listConnections(ctx.store.db, session.organizationId);
    const csrfToken = reply.generateCsrf();
    const notice = renderOidcNotices(
      await readOidcNotices(ctx, session.organizationId, request.query, connections),
      csrfToken,
    );
    // "Back to the form" from a test of unsaved values: the Setup form holds them again.
    const tested = await formValuesFromTest(
      ctx,
      session.organizationId,
      session.idHash,
      (request.query as { test?: unknown }).test,
    );
    if (connections.length === 0 || tested) {
      return sendHtml(
        reply,
        setupPage({
          session,
          csrfToken,
          callbackUrl: callbackUrl(ctx.config),
          homePageUrl: homePageUrl(ctx.config),
          values: tested ?? emptyConnectionForm,
          notice,
          organizationDomains: await listDomainViews(ctx, session.organizationId),
          secretSubmitted: tested !== undefined,
        }),
      );
    }
    const activity = new Map<string, AuditEvent[]>();
    for (const c of connections) {
      activity.set(
        c.id,
        await listAuditEvents(ctx.store.db, {
          organizationId: session.organizationId,
          connectionId: c.id,
          type: "sign_in.sso",
          limit: ACTIVITY_LIMIT,
        }),
      );
    }
    return sendHtml(
      reply,
      connectionPage({
        session,
        csrfToken,
        activity,
        connections: connections.map((c) => toConnectionView(ctx.config, c)),
        homePageUrl: homePageUrl(ctx.config),
        notice,
        organizationDomains: await listDomainViews(ctx, session.organizationId),
      }),
    );
  });

  app.post(adminPaths.oidc, { preHandler: [admin, app.csrfProtection] }, async (request, reply) => {
    const session = adminSession(request);
    const form = readConnectionForm(request.body);
    try {
      const { revokedSessions, credentialsNote } = await createConnection(ctx, {
        organizationId: session.organizationId,
        input: form.input,
        actorUserId: session.userId,
        actorSessionHash: session.idHash,
        ip: request.ip,
      });
      return reply.redirect(
        createdLocation(adminPaths.oidc, revokedSessions, credentialsNote !== undefined),
        303,
      );
    } catch (error) {
      const refusal = toFormRefusal(error);
      if (!refusal) throw error;
      request.log.info({ code: refusal.code, detail: refusal.detail }, "connection refused");
      return sendHtml(
        reply,
        setupPage({
          session,
          csrfToken: reply.generateCsrf(),
          callbackUrl: callbackUrl(ctx.config),
          homePageUrl: homePageUrl(ctx.config),
          values: form.values,
          refusal,
          secretSubmitted: form.secretSubmitted,
          organizationDomains: await listDomainViews(ctx, session.organizationId),
        }),
        refusal.status,
      );
    }
  });

  const confirmModel = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = adminSession(request);
    const connection = await findConnection(
      ctx.store.db,
      session.organizationId,
      connectionIdParam(request.params),
    );
    if (!connection) {
      throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
    }
    return {
      session,
      csrfToken: reply.generateCsrf(),
      connection,
      sessions: await countSessionsForConnection(ctx.store.db, connection.id, ctx.now()),
    };
  };
  const actorOf = (request: FastifyRequest) => {
    const session = adminSession(request);
    return {
      organizationId: session.organizationId,
      actorUserId: session.userId,
      actorSessionHash: session.idHash,
      ip: request.ip,
    };
  };

  app.get(statusPaths.disable(":id"), { preHandler: admin }, async (request, reply) =>
    sendHtml(reply, disableConfirmPage(await confirmModel(request, reply))),
  );
  app.post(
    statusPaths.disable(":id"),
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const id = connectionIdParam(request.params);
      // An unchecked box is absent from the form: ending the sessions is the default only on the page.
      const endSessions = textField(request.body, "end_sessions", 10) === "1";
      const { sessionsEnded } = await disableConnection(ctx, actorOf(request), id, { endSessions });
      return reply.redirect(statusLocation(adminPaths.oidc, "disabled", id, sessionsEnded), 303);
    },
  );
  app.post(statusPaths.enable(":id"), { preHandler: [admin, app.csrfProtection] }, async (request, reply) => {
    const id = connectionIdParam(request.params);
    const { sessionsEnded } = await enableConnection(ctx, actorOf(request), id);
    return reply.redirect(statusLocation(adminPaths.oidc, "enabled", id, sessionsEnded), 303);
  });
  app.get(statusPaths.signOutEveryone(":id"), { preHandler: admin }, async (request, reply) =>
    sendHtml(reply, signOutEveryonePage(await confirmModel(request, reply))),
  );
  app.post(
    statusPaths.signOutEveryone(":id"),
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const id = connectionIdParam(request.params);
      const sessionsEnded = await signOutConnectionSessions(ctx, actorOf(request), id);
      return reply.redirect(statusLocation(adminPaths.oidc, "signed-out", id, sessionsEnded), 303);
    },
  );

  app.get(`${adminPaths.oidc}/:id/delete`, { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const connection = await findConnection(
      ctx.store.db,
      session.organizationId,
      connectionIdParam(request.params),
    );
    if (!connection) {
      throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
    }
    return sendHtml(reply, deleteConfirmPage({ session, csrfToken: reply.generateCsrf(), connection }));
  });

  app.post(
    `${adminPaths.oidc}/:id/delete`,
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const session = adminSession(request);
      await deleteConnection(
        ctx,
        {
          organizationId: session.organizationId,
          actorUserId: session.userId,
          actorSessionHash: session.idHash,
          ip: request.ip,
        },
        connectionIdParam(request.params),
      );
      return reply.redirect(deletedLocation(adminPaths.oidc), 303);
    },
  );
}
