import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { certificateFacts } from "../../connections/saml-certificates.js";
import { createSamlConnection } from "../../connections/saml-create.js";
import {
  claimSamlConnectionId,
  reissueSamlConnectionId,
  reserveSamlConnectionId,
} from "../../connections/saml-new-id.js";
import {
  isSamlUnsavedSettings,
  type SamlUnsavedSettings,
  testUnsavedSamlConnection,
} from "../../connections/saml-test.js";
import { samlInputOf, updateSamlConnection } from "../../connections/saml-update.js";
import { openConnectionTest, testPaths, testSavedConnection } from "../../connections/test.js";
import { type SamlConnectionView, toConnectionView } from "../../connections/view.js";
import { isUuid } from "../../domain/ids.js";
import { formatRoleRules } from "../../domain/provider-roles.js";
import { listDomainViews } from "../../domains/view.js";
import { GatehouseError, isGatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { serviceProviderUrls } from "../../sso/saml/service-provider.js";
import { listAuditEvents } from "../../store/audit.js";
import { findConnection, listConnections, type SamlConnection } from "../../store/connections.js";
import { textField } from "../../web/form.js";
import { adminPaths, sendHtml } from "../components.js";
import { adminSession, requireAdmin } from "../guard.js";
import { createdLocation, readOidcNotices, renderOidcNotices, updatedLocation } from "./notices.js";
import { connectionPaths } from "./paths.js";
import { findPeopleLeft } from "./people-left.js";
import { samlConnectionPage, samlListPage } from "./saml-connection.js";
import { samlEditPage } from "./saml-edit.js";
import { emptySamlForm, readSamlForm, type SamlFormValues, toSamlFormRefusal } from "./saml-form.js";
import { samlSetupPage } from "./saml-setup.js";
import { ACTIVITY_LIMIT } from "./sign-in-activity.js";

function notFound(): GatehouseError {
  return new GatehouseError("CONNECTION_NOT_FOUND", "No such SAML connection in this organization.");
}

/**
 * Administration > Enterprise Authentication > SAML 2.0: the Setup page (what to copy before
 * anything exists, then the form), the list, each connection's page, its edit form and test
 * sign-in. Disable, enable, sign out everyone and delete are registered with Open ID Connect's
 * (routes.ts), under `/saml/{id}/…`.
 */
export function registerSamlAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admin = requireAdmin(ctx);
  const baseUrl = ctx.config.baseUrl.toString();

  // The id the Setup page showed (reserved for the organization, with its proof), so that Create
  // and a test before it use the ACS URL the admin already gave the IdP.
  const claimedId = (organizationId: string, body: unknown) => ({
    id: claimSamlConnectionId(
      ctx,
      organizationId,
      textField(body, "connectionId", 64),
      textField(body, "connectionIdProof", 100),
    ),
    proof: textField(body, "connectionIdProof", 100),
  });

  // A test sign-in of a form's values: to the IdP, or back to the form with what was refused.
  const testUnsaved = async (
    request: FastifyRequest,
    reply: FastifyReply,
    target: Parameters<typeof testUnsavedSamlConnection>[2],
    input: Parameters<typeof testUnsavedSamlConnection>[3],
    showRefusal: (refusal: NonNullable<ReturnType<typeof toSamlFormRefusal>>) => Promise<unknown>,
  ) => {
    try {
      const started = await testUnsavedSamlConnection(ctx, actorOf(request), target, input);
      return reply.redirect(testPaths.start(started.id), 303);
    } catch (error) {
      const refusal = toSamlFormRefusal(error);
      if (!refusal) throw error;
      request.log.info({ code: refusal.code, detail: refusal.detail }, "SAML test sign-in refused");
      return showRefusal(refusal);
    }
  };

  const showSetup = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: { values: SamlFormValues; newId?: { id: string; proof: string } } = { values: emptySamlForm },
    refusal?: ReturnType<typeof toSamlFormRefusal>,
  ): Promise<FastifyReply> => {
    const session = adminSession(request);
    // "Back to the form" from a test of these values: the same values and the same id.
    const tested = form.newId ? undefined : await testedValues(request, false);
    if (tested) {
      form = {
        values: tested.values,
        newId: reissueSamlConnectionId(ctx, session.organizationId, tested.connectionId),
      };
    }
    // The organization's reserved id: the same URLs on every load, for every admin, until Create.
    const newId = form.newId ?? (await reserveSamlConnectionId(ctx, session.organizationId));
    const sp = serviceProviderUrls(baseUrl, newId.id);
    const csrfToken = reply.generateCsrf();
    const notice = renderOidcNotices(
      await readOidcNotices(ctx, session.organizationId, request.query, []),
      csrfToken,
    );
    return sendHtml(
      reply,
      samlSetupPage({
        session,
        csrfToken,
        newId,
        sp: { acsUrl: sp.acsUrl, entityId: sp.entityId, metadataUrl: sp.entityId },
        values: form.values,
        refusal,
        notice,
        organizationDomains: await listDomainViews(ctx, session.organizationId),
      }),
      refusal?.status ?? 200,
    );
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

  /** The edit form again, with the admin's values and what was refused (or as saved, without). */
  const showEdit = async (
    request: FastifyRequest,
    reply: FastifyReply,
    connection: { id: string; name: string },
    values: SamlFormValues,
    refusal?: NonNullable<ReturnType<typeof toSamlFormRefusal>>,
  ): Promise<FastifyReply> => {
    const session = adminSession(request);
    return sendHtml(
      reply,
      samlEditPage({
        session,
        csrfToken: reply.generateCsrf(),
        connection: { id: connection.id, name: connection.name },
        values,
        ...(refusal ? { refusal } : {}),
        organizationDomains: await listDomainViews(ctx, session.organizationId),
      }),
      refusal?.status ?? 200,
    );
  };

  /** The values of the admin's own SAML test named by `?test=`, for the form it came from. */
  async function testedValues(
    request: FastifyRequest,
    editing: boolean,
  ): Promise<{ values: SamlFormValues; connectionId: string } | undefined> {
    const testId = (request.query as { test?: unknown } | undefined)?.test;
    if (!isUuid(testId)) return undefined;
    const session = adminSession(request);
    let settings: unknown;
    try {
      const row = await openConnectionTest(ctx, session.organizationId, testId, session.idHash);
      settings = row.settings ? JSON.parse(row.settings) : undefined;
    } catch (error) {
      if (isGatehouseError(error)) return undefined;
      throw error;
    }
    if (!isSamlUnsavedSettings(settings) || settings.editing !== editing) return undefined;
    return { values: testedFormValues(settings), connectionId: settings.connectionId };
  }

  const samlConnections = async (organizationId: string) =>
    (await listConnections(ctx.store.db, organizationId)).filter(
      (c): c is SamlConnection => c.protocol === "saml",
    );
  const viewOf = (c: SamlConnection) => toConnectionView(ctx.config, c) as SamlConnectionView;

  async function editFormValues(
    request: FastifyRequest,
    connection: SamlConnection,
  ): Promise<SamlFormValues> {
    const tested = await testedValues(request, true);
    return tested?.connectionId === connection.id ? tested.values : editValues(connection);
  }

  async function connectionOf(request: FastifyRequest): Promise<SamlConnection> {
    const id = (request.params as { id?: unknown }).id;
    if (!isUuid(id)) throw notFound();
    const connection = await findConnection(ctx.store.db, adminSession(request).organizationId, id);
    if (connection?.protocol !== "saml") throw notFound();
    return connection;
  }

  // No SAML connection yet: the Setup page. Some: the list, with a way to add another.
  app.get(adminPaths.saml, { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const connections = await samlConnections(session.organizationId);
    if (connections.length === 0) return showSetup(request, reply);
    const csrfToken = reply.generateCsrf();
    const notice = renderOidcNotices(
      await readOidcNotices(ctx, session.organizationId, request.query, []),
      csrfToken,
    );
    return sendHtml(
      reply,
      samlListPage({ session, csrfToken, connections: connections.map(viewOf), notice }),
    );
  });

  app.get(connectionPaths.newOf("saml"), { preHandler: admin }, (request, reply) =>
    showSetup(request, reply),
  );

  app.post(adminPaths.saml, { preHandler: [admin, app.csrfProtection] }, async (request, reply) => {
    const session = adminSession(request);
    const body = request.body;
    const newId = claimedId(session.organizationId, body);
    const form = readSamlForm(body);
    try {
      const { connection, revokedSessions } = await createSamlConnection(ctx, {
        organizationId: session.organizationId,
        input: { idp: {}, ...form.input },
        connectionId: newId.id,
        actorUserId: session.userId,
        actorSessionHash: session.idHash,
        ip: request.ip,
      });
      return reply.redirect(
        createdLocation(connectionPaths.page(connection.id, "saml"), revokedSessions),
        303,
      );
    } catch (error) {
      const refusal = toSamlFormRefusal(error);
      if (!refusal) throw error;
      request.log.info({ code: refusal.code, detail: refusal.detail }, "SAML connection refused");
      // The same id again: what the admin already copied into the IdP stays right.
      return showSetup(request, reply, { values: form.values, newId }, refusal);
    }
  });

  app.get(connectionPaths.page(":id", "saml"), { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const connection = await connectionOf(request);
    const csrfToken = reply.generateCsrf();
    const notice = renderOidcNotices(
      await readOidcNotices(ctx, session.organizationId, request.query, [connection]),
      csrfToken,
    );
    const now = ctx.now();
    return sendHtml(
      reply,
      samlConnectionPage({
        session,
        csrfToken,
        connection: viewOf(connection),
        certificates: connection.saml.signingCertificates.map((pem) => certificateFacts(pem, now)),
        spCertificate: certificateFacts(connection.saml.spCertificate, now),
        activity: await listAuditEvents(ctx.store.db, {
          organizationId: session.organizationId,
          connectionId: connection.id,
          type: "sign_in.sso",
          limit: ACTIVITY_LIMIT,
        }),
        notice,
        organizationDomains: await listDomainViews(ctx, session.organizationId),
        people: await findPeopleLeft(
          ctx.store.db,
          session.organizationId,
          connection.domains,
          session.userId,
        ),
      }),
    );
  });

  app.get(connectionPaths.edit(":id", "saml"), { preHandler: admin }, async (request, reply) => {
    const connection = await connectionOf(request);
    return showEdit(request, reply, connection, await editFormValues(request, connection));
  });

  app.post(
    connectionPaths.edit(":id", "saml"),
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const session = adminSession(request);
      const connection = await connectionOf(request);
      const form = readSamlForm(request.body, { allowKeep: true });
      try {
        const { changed } = await updateSamlConnection(
          ctx,
          {
            organizationId: session.organizationId,
            actorUserId: session.userId,
            actorSessionHash: session.idHash,
            ip: request.ip,
          },
          connection.id,
          form.input,
        );
        return reply.redirect(
          updatedLocation(connectionPaths.page(connection.id, "saml"), changed.length > 0),
          303,
        );
      } catch (error) {
        const refusal = toSamlFormRefusal(error);
        if (!refusal) throw error;
        request.log.info({ code: refusal.code, detail: refusal.detail }, "SAML connection edit refused");
        return showEdit(request, reply, connection, form.values, refusal);
      }
    },
  );

  // Test sign-in of the Setup form's values, before Create: checked as Create checks them, then
  // through the IdP and back to the ACS URL of the id the page showed. Nothing is created.
  app.post(`${adminPaths.saml}/test`, { preHandler: [admin, app.csrfProtection] }, async (request, reply) => {
    const session = adminSession(request);
    const body = request.body;
    const newId = claimedId(session.organizationId, body);
    const form = readSamlForm(body);
    return testUnsaved(request, reply, { kind: "new", connectionId: newId.id }, form.input, (refusal) =>
      showSetup(request, reply, { values: form.values, newId }, refusal),
    );
  });

  // Test sign-in of an edit's values, before Save: the saved connection is untouched meanwhile.
  app.post(
    `${connectionPaths.edit(":id", "saml")}/test`,
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const connection = await connectionOf(request);
      const form = readSamlForm(request.body, { allowKeep: true });
      return testUnsaved(
        request,
        reply,
        { kind: "edit", connectionId: connection.id },
        form.input,
        (refusal) => showEdit(request, reply, connection, form.values, refusal),
      );
    },
  );

  // Test sign-in through the saved connection, enabled or not: the shared test pages take over.
  app.post(
    connectionPaths.test(":id", "saml"),
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const session = adminSession(request);
      const connection = await connectionOf(request);
      const started = await testSavedConnection(
        ctx,
        {
          organizationId: session.organizationId,
          actorUserId: session.userId,
          actorSessionHash: session.idHash,
          ip: request.ip,
        },
        connection.id,
      );
      return reply.redirect(testPaths.start(started.id), 303);
    },
  );
}

/** The stored settings as the edit form shows them: the IdP's side kept unless the admin replaces it. */
function editValues(c: SamlConnection): SamlFormValues {
  const input = samlInputOf(c);
  return {
    ...emptySamlForm,
    name: input.name,
    metadataSource: "keep",
    metadataUrl: c.saml.metadataUrl ?? "",
    entityId: c.saml.entityId,
    ssoUrl: c.saml.ssoUrl,
    sloUrl: c.saml.sloUrl ?? "",
    certificates: c.saml.signingCertificates.join("\n"),
    domains: input.domains.join(", "),
    allowIdpInitiated: c.saml.allowIdpInitiated ? "1" : "",
    emailAttribute: c.saml.emailAttribute ?? "",
    nameAttribute: c.saml.nameAttribute ?? "",
    groupsAttribute: c.saml.groupsAttribute ?? "",
    roleRules: formatRoleRules(c.roles.rules),
    defaultRole: c.roles.defaultRole,
  };
}

/**
 * A test's values as the form shows them again: the IdP's side as settings by hand (or its
 * metadata URL, downloaded again on the next submit), since pasted metadata is not kept.
 */
function testedFormValues(s: SamlUnsavedSettings): SamlFormValues {
  const byUrl = s.saml.metadataUrl !== null;
  return {
    ...emptySamlForm,
    name: s.name,
    metadataSource: byUrl ? "url" : "manual",
    metadataUrl: s.saml.metadataUrl ?? "",
    entityId: byUrl ? "" : s.saml.entityId,
    ssoUrl: byUrl ? "" : s.saml.ssoUrl,
    sloUrl: byUrl ? "" : (s.saml.sloUrl ?? ""),
    certificates: byUrl ? "" : s.saml.signingCertificates.join("\n"),
    domains: s.domains.join(", "),
    allowIdpInitiated: s.saml.allowIdpInitiated ? "1" : "",
    emailAttribute: s.saml.emailAttribute ?? "",
    nameAttribute: s.saml.nameAttribute ?? "",
    groupsAttribute: s.saml.groupsAttribute ?? "",
    roleRules: formatRoleRules(s.roles.rules),
    defaultRole: s.roles.defaultRole,
  };
}
