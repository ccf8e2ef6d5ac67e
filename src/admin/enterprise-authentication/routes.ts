import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createConnection } from "../../connections/create.js";
import {
  deleteConnection,
  disableConnection,
  enableConnection,
  signOutConnectionSessions,
} from "../../connections/delete.js";
import { testEditedConnection, testPaths } from "../../connections/test.js";
import { connectionInputOf, updateConnection } from "../../connections/update.js";
import { callbackUrl, homePageUrl, toOidcConnectionView } from "../../connections/view.js";
import { isUuid } from "../../domain/ids.js";
import { listDomainViews } from "../../domains/view.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { listAuditEvents } from "../../store/audit.js";
import {
  type Connection,
  findConnection,
  listConnections,
  type OidcConnection,
} from "../../store/connections.js";
import { listDomains } from "../../store/domains.js";
import { countSessionsForConnection } from "../../store/sessions.js";
import { textField } from "../../web/form.js";
import { adminPaths, sendHtml } from "../components.js";
import { adminSession, requireAdmin } from "../guard.js";
import {
  type ConnectionFormValues,
  emptyConnectionForm,
  type FormRefusal,
  readConnectionForm,
  toFormRefusal,
} from "./connection-form.js";
import { deleteConfirmPage } from "./delete.js";
import { introPage } from "./intro.js";
import {
  createdLocation,
  deletedLocation,
  readOidcNotices,
  renderOidcNotices,
  statusLocation,
  updatedLocation,
} from "./notices.js";
import { connectionListPage, connectionPage } from "./oidc-connection.js";
import { editFormValues, editPage } from "./oidc-edit.js";
import { setupPage } from "./oidc-setup.js";
import { connectionHome, connectionPaths } from "./paths.js";
import { findPeopleLeft } from "./people-left.js";
import { registerSamlAdminRoutes } from "./saml-routes.js";
import { ACTIVITY_LIMIT } from "./sign-in-activity.js";
import { integrationStates } from "./state.js";
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
  registerSamlAdminRoutes(app, ctx);

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
        ...integrationStates(connections, ctx.now()),
        domainCounts,
      }),
    );
  });

  /** `noticesOf`: the connections the page's notices may name (none on /oidc/new). */
  const showSetup = async (
    request: FastifyRequest,
    reply: FastifyReply,
    noticesOf: readonly Connection[] = [],
  ): Promise<FastifyReply> => {
    const session = adminSession(request);
    const csrfToken = reply.generateCsrf();
    const notice = renderOidcNotices(
      await readOidcNotices(ctx, session.organizationId, request.query, noticesOf),
      csrfToken,
    );
    // "Back to the form" from a test of unsaved values: the Setup form holds them again.
    const tested = await formValuesFromTest(
      ctx,
      session.organizationId,
      session.idHash,
      (request.query as { test?: unknown }).test,
    );
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
  };

  const showConnection = async (
    request: FastifyRequest,
    reply: FastifyReply,
    connection: OidcConnection,
    connectionCount: number,
  ): Promise<FastifyReply> => {
    const session = adminSession(request);
    const csrfToken = reply.generateCsrf();
    const notice = renderOidcNotices(
      await readOidcNotices(ctx, session.organizationId, request.query, [connection]),
      csrfToken,
    );
    const activity = await listAuditEvents(ctx.store.db, {
      organizationId: session.organizationId,
      connectionId: connection.id,
      type: "sign_in.sso",
      limit: ACTIVITY_LIMIT,
    });
    return sendHtml(
      reply,
      connectionPage({
        session,
        csrfToken,
        activity,
        connection: toOidcConnectionView(ctx.config, connection),
        people: await findPeopleLeft(
          ctx.store.db,
          session.organizationId,
          connection.domains,
          session.userId,
        ),
        connectionCount,
        homePageUrl: homePageUrl(ctx.config),
        notice,
        organizationDomains: await listDomainViews(ctx, session.organizationId),
      }),
    );
  };

  // No connection: the Setup page. One: its page, as in the seed. Several: the list.
  app.get(adminPaths.oidc, { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    // This page lists OpenID Connect connections; other protocols have their own pages.
    const connections = (await listConnections(ctx.store.db, session.organizationId)).filter(isOidc);
    const [only] = connections;
    if (connections.length === 0 || (request.query as { test?: unknown }).test !== undefined) {
      return showSetup(request, reply, connections);
    }
    if (connections.length === 1 && only) return showConnection(request, reply, only, 1);
    const csrfToken = reply.generateCsrf();
    const notice = renderOidcNotices(
      await readOidcNotices(ctx, session.organizationId, request.query, []),
      csrfToken,
    );
    return sendHtml(
      reply,
      connectionListPage({
        session,
        csrfToken,
        connections: connections.map((c) => toOidcConnectionView(ctx.config, c)),
        notice,
      }),
    );
  });

  app.get(connectionPaths.new, { preHandler: admin }, async (request, reply) => showSetup(request, reply));

  app.get(connectionPaths.page(":id"), { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const connections = (await listConnections(ctx.store.db, session.organizationId)).filter(isOidc);
    const id = connectionIdParam(request.params);
    const connection = connections.find((c) => c.id === id);
    if (!connection)
      throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
    return showConnection(request, reply, connection, connections.length);
  });

  const showEdit = async (
    request: FastifyRequest,
    reply: FastifyReply,
    connection: OidcConnection,
    form: {
      values: ConnectionFormValues;
      secretSubmitted?: boolean;
      refusal?: FormRefusal;
      fromTest?: boolean;
    },
  ): Promise<FastifyReply> => {
    const session = adminSession(request);
    return sendHtml(
      reply,
      editPage({
        session,
        csrfToken: reply.generateCsrf(),
        connection,
        values: form.values,
        refusal: form.refusal,
        secretSubmitted: form.secretSubmitted ?? false,
        organizationDomains: await listDomainViews(ctx, session.organizationId),
        usesKey: connection.oidc.tokenEndpointAuthMethod === "private_key_jwt",
        fromTest: form.fromTest ?? false,
      }),
      form.refusal?.status ?? 200,
    );
  };

  app.get(connectionPaths.edit(":id"), { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const connection = await oidcConnectionOf(request);
    // "Back to the form" from a test of the edit's values: the form holds them again.
    const tested = await formValuesFromTest(
      ctx,
      session.organizationId,
      session.idHash,
      (request.query as { test?: unknown }).test,
      connection.id,
    );
    return showEdit(request, reply, connection, {
      values: tested ?? editFormValues(connectionInputOf(connection)),
      fromTest: tested !== undefined,
    });
  });

  // Test sign-in of an edit's values, before Save: the saved connection is untouched meanwhile.
  app.post(
    `${connectionPaths.edit(":id")}/test`,
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const connection = await oidcConnectionOf(request);
      const form = readConnectionForm(request.body);
      try {
        const started = await testEditedConnection(ctx, actorOf(request), connection.id, form.input);
        return reply.redirect(testPaths.start(started.id), 303);
      } catch (error) {
        const refusal = toFormRefusal(error);
        if (!refusal) throw error;
        request.log.info({ code: refusal.code, detail: refusal.detail }, "test sign-in of an edit refused");
        return showEdit(request, reply, connection, {
          values: form.values,
          secretSubmitted: form.secretSubmitted,
          refusal,
        });
      }
    },
  );

  app.post(
    connectionPaths.edit(":id"),
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const connection = await oidcConnectionOf(request);
      const form = readConnectionForm(request.body);
      try {
        const { changed } = await updateConnection(ctx, actorOf(request), connection.id, form.input);
        return reply.redirect(updatedLocation(await homeOf(request, connection.id), changed.length > 0), 303);
      } catch (error) {
        const refusal = toFormRefusal(error);
        if (!refusal) throw error;
        request.log.info({ code: refusal.code, detail: refusal.detail }, "connection edit refused");
        return showEdit(request, reply, connection, {
          values: form.values,
          secretSubmitted: form.secretSubmitted,
          refusal,
        });
      }
    },
  );

  app.post(adminPaths.oidc, { preHandler: [admin, app.csrfProtection] }, async (request, reply) => {
    const session = adminSession(request);
    const form = readConnectionForm(request.body);
    try {
      const { connection, revokedSessions, credentialsNote } = await createConnection(ctx, {
        organizationId: session.organizationId,
        input: form.input,
        actorUserId: session.userId,
        actorSessionHash: session.idHash,
        ip: request.ip,
      });
      return reply.redirect(
        createdLocation(
          await connectionHome(ctx, session.organizationId, connection.id),
          revokedSessions,
          credentialsNote !== undefined,
        ),
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

  const homeOf = (request: FastifyRequest, id: string) =>
    connectionHome(ctx, adminSession(request).organizationId, id);

  async function connectionOf(request: FastifyRequest): Promise<Connection> {
    const session = adminSession(request);
    const connection = await findConnection(
      ctx.store.db,
      session.organizationId,
      connectionIdParam(request.params),
    );
    if (!connection) {
      throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
    }
    return connection;
  }

  /** The OpenID Connect form edits OpenID Connect connections only. */
  async function oidcConnectionOf(request: FastifyRequest): Promise<OidcConnection> {
    const connection = await connectionOf(request);
    if (connection.protocol !== "oidc") {
      throw new GatehouseError(
        "CONNECTION_NOT_FOUND",
        "No such OpenID Connect connection in this organization.",
      );
    }
    return connection;
  }

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
      connection: { ...connection, type: connection.protocol },
      sessions: await countSessionsForConnection(ctx.store.db, connection.id, ctx.now()),
      people: await findPeopleLeft(ctx.store.db, session.organizationId, connection.domains, session.userId),
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

  // Each connection's actions, under its protocol's pages; the services do not depend on the protocol.
  for (const protocol of ["oidc", "saml"] as const) {
    app.get(statusPaths.disable(":id", protocol), { preHandler: admin }, async (request, reply) =>
      sendHtml(reply, disableConfirmPage(await confirmModel(request, reply))),
    );
    app.post(
      statusPaths.disable(":id", protocol),
      { preHandler: [admin, app.csrfProtection] },
      async (request, reply) => {
        const id = connectionIdParam(request.params);
        // An unchecked box is absent from the form: ending the sessions is the default only on the page.
        const endSessions = textField(request.body, "end_sessions", 10) === "1";
        const { sessionsEnded } = await disableConnection(ctx, actorOf(request), id, { endSessions });
        return reply.redirect(
          statusLocation(
            await connectionHome(ctx, adminSession(request).organizationId, id, protocol),
            "disabled",
            id,
            sessionsEnded,
          ),
          303,
        );
      },
    );
    app.post(
      statusPaths.enable(":id", protocol),
      { preHandler: [admin, app.csrfProtection] },
      async (request, reply) => {
        const id = connectionIdParam(request.params);
        const { sessionsEnded } = await enableConnection(ctx, actorOf(request), id);
        return reply.redirect(
          statusLocation(
            await connectionHome(ctx, adminSession(request).organizationId, id, protocol),
            "enabled",
            id,
            sessionsEnded,
          ),
          303,
        );
      },
    );
    app.get(statusPaths.signOutEveryone(":id", protocol), { preHandler: admin }, async (request, reply) =>
      sendHtml(reply, signOutEveryonePage(await confirmModel(request, reply))),
    );
    app.post(
      statusPaths.signOutEveryone(":id", protocol),
      { preHandler: [admin, app.csrfProtection] },
      async (request, reply) => {
        const id = connectionIdParam(request.params);
        const sessionsEnded = await signOutConnectionSessions(ctx, actorOf(request), id);
        return reply.redirect(
          statusLocation(
            await connectionHome(ctx, adminSession(request).organizationId, id, protocol),
            "signed-out",
            id,
            sessionsEnded,
          ),
          303,
        );
      },
    );

    app.get(adminPaths.deleteConnection(":id", protocol), { preHandler: admin }, async (request, reply) => {
      const session = adminSession(request);
      const connection = await findConnection(
        ctx.store.db,
        session.organizationId,
        connectionIdParam(request.params),
      );
      if (!connection) {
        throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
      }
      return sendHtml(
        reply,
        deleteConfirmPage({
          session,
          csrfToken: reply.generateCsrf(),
          connection: {
            ...connection,
            type: connection.protocol,
            people: await findPeopleLeft(
              ctx.store.db,
              session.organizationId,
              connection.domains,
              session.userId,
            ),
          },
        }),
      );
    });

    app.post(
      adminPaths.deleteConnection(":id", protocol),
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
        return reply.redirect(deletedLocation(adminPaths[protocol]), 303);
      },
    );
  }
}

function isOidc(connection: Connection): connection is OidcConnection {
  return connection.protocol === "oidc";
}
