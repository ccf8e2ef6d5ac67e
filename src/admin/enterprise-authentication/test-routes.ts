import type { FastifyInstance } from "fastify";
import { createConnection } from "../../connections/create.js";
import { isSamlUnsavedSettings } from "../../connections/saml-test.js";
import {
  openConnectionTest,
  testConnection,
  testedInput,
  testPaths,
  testSavedConnection,
  testUnsavedConnection,
  type UnsavedSettings,
  unsavedSecret,
  unsavedSettings,
} from "../../connections/test.js";
import { updateConnection } from "../../connections/update.js";
import { callbackUrl, homePageUrl } from "../../connections/view.js";
import { isUuid } from "../../domain/ids.js";
import { formatRoleRules } from "../../domain/provider-roles.js";
import { listDomainViews } from "../../domains/view.js";
import { GatehouseError, isGatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { beginSignIn } from "../../sign-in/begin.js";
import { sendBrowserStep } from "../../sign-in/browser-step.js";
import type { TestResult } from "../../sign-in/test-sign-in.js";
import type { ConnectionTestRow } from "../../store/connection-tests.js";
import { findConnection } from "../../store/connections.js";
import { adminPaths, sendHtml } from "../components.js";
import { adminSession, requireAdmin } from "../guard.js";
import { type ConnectionFormValues, readConnectionForm, toFormRefusal } from "./connection-form.js";
import { createdLocation, updatedLocation } from "./notices.js";
import { editPage } from "./oidc-edit.js";
import { setupPage } from "./oidc-setup.js";
import { connectionHome, connectionPaths } from "./paths.js";
import { testResultPage } from "./test-result.js";

function idParam(params: unknown): string {
  const id = (params as { id?: unknown }).id;
  if (!isUuid(id)) throw new GatehouseError("NOT_FOUND", "No such test sign-in.");
  return id;
}

/**
 * Test sign-in from the admin console: the Setup form's "Test sign-in" (unsaved values, checked
 * like Create), each connection's "Test sign-in", the start link that sends the admin to the
 * provider, and the result page. Every page is the admin session's own (openConnectionTest).
 */
export function registerTestSignInRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admin = requireAdmin(ctx);
  const actorOf = (request: Parameters<typeof adminSession>[0]) => {
    const session = adminSession(request);
    return {
      organizationId: session.organizationId,
      actorUserId: session.userId,
      actorSessionHash: session.idHash,
      ip: request.ip,
    };
  };

  app.post(`${adminPaths.oidc}/test`, { preHandler: [admin, app.csrfProtection] }, async (request, reply) => {
    const session = adminSession(request);
    const form = readConnectionForm(request.body);
    try {
      const started = await testUnsavedConnection(ctx, actorOf(request), form.input);
      return reply.redirect(testPaths.start(started.id), 303);
    } catch (error) {
      const refusal = toFormRefusal(error);
      if (!refusal) throw error;
      request.log.info({ code: refusal.code, detail: refusal.detail }, "test sign-in refused");
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

  app.post(
    `${adminPaths.oidc}/:id/test`,
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const id = (request.params as { id?: unknown }).id;
      if (!isUuid(id))
        throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
      const started = await testSavedConnection(ctx, actorOf(request), id);
      return reply.redirect(testPaths.start(started.id), 303);
    },
  );

  // The URL the API answers: it sends the admin's browser to the provider, once.
  app.get(testPaths.start(":id"), { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const row = await openConnectionTest(
      ctx,
      session.organizationId,
      idParam(request.params),
      session.idHash,
    );
    if (row.finished_at !== null || row.expires_at <= ctx.now()) {
      return reply.redirect(testPaths.result(row.id), 303);
    }
    const { connection, saved } = await testConnection(ctx, row);
    const adapter = ctx.signIn.forConnection(ctx, connection);
    const step = await beginSignIn(
      ctx,
      request,
      reply,
      adapter,
      { connection, saved },
      {
        returnTo: testPaths.result(row.id),
        test: { id: row.id, expiresAt: row.expires_at, connectionId: row.connection_id },
      },
    );
    return sendBrowserStep(reply, step);
  });

  app.get(testPaths.result(":id"), { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const row = await openConnectionTest(
      ctx,
      session.organizationId,
      idParam(request.params),
      session.idHash,
    );
    const result = row.result ? (JSON.parse(row.result) as TestResult) : null;
    const values: unknown = row.settings ? JSON.parse(row.settings) : undefined;
    const saml = isSamlUnsavedSettings(values) ? values : undefined;
    const oidcEdit = saml ? undefined : (values as UnsavedSettings | undefined)?.editing;
    return sendHtml(
      reply,
      testResultPage({
        session,
        csrfToken: reply.generateCsrf(),
        testId: row.id,
        startPath: testPaths.start(row.id),
        connectionId: row.connection_id,
        protocol: row.connection_id
          ? (await findConnection(ctx.store.db, session.organizationId, row.connection_id))?.protocol
          : saml
            ? "saml"
            : undefined,
        formPath: saml
          ? `${saml.editing ? connectionPaths.edit(saml.connectionId, "saml") : connectionPaths.newOf("saml")}?test=${row.id}`
          : oidcEdit
            ? `${connectionPaths.edit(oidcEdit)}?test=${row.id}`
            : undefined,
        result,
        expired: row.expires_at <= ctx.now(),
        canCreate:
          result?.outcome === "success" &&
          !row.connection_id &&
          oidcEdit === undefined &&
          unsavedSettings(row, ctx.now()) !== undefined,
        canSave:
          result?.outcome === "success" && oidcEdit !== undefined && unsavedSecret(ctx, row) !== undefined,
      }),
    );
  });

  /** A test of the admin's own, with the OpenID Connect values and secret it kept, while they last. */
  const keptValues = async (request: Parameters<typeof adminSession>[0]) => {
    const session = adminSession(request);
    const row = await openConnectionTest(
      ctx,
      session.organizationId,
      idParam(request.params),
      session.idHash,
    );
    return { session, row, settings: unsavedSettings(row, ctx.now()), secret: unsavedSecret(ctx, row) };
  };

  // "Create the connection" from a test that passed: the values it ran with, checked again as Create does.
  app.post(
    `${testPaths.result(":id")}/create`,
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const { session, row, settings, secret } = await keptValues(request);
      if (row.connection_id || !settings || settings.editing || secret === undefined) {
        return reply.redirect(`${adminPaths.oidc}?test=${row.id}`, 303);
      }
      const input = testedInput(settings, secret);
      let created: Awaited<ReturnType<typeof createConnection>>;
      try {
        created = await createConnection(ctx, { ...actorOf(request), input });
      } catch (error) {
        // Something changed since the test (the name was taken, the secret revoked): the form
        // shows why, with the tested values.
        const refusal = toFormRefusal(error);
        if (!refusal) throw error;
        return sendHtml(
          reply,
          setupPage({
            session,
            csrfToken: reply.generateCsrf(),
            callbackUrl: callbackUrl(ctx.config),
            homePageUrl: homePageUrl(ctx.config),
            values: formValues(settings),
            refusal,
            secretSubmitted: true,
            organizationDomains: await listDomainViews(ctx, session.organizationId),
          }),
          refusal.status,
        );
      }
      const { revokedSessions, credentialsNote } = created;
      return reply.redirect(
        createdLocation(
          await connectionHome(ctx, session.organizationId, created.connection.id),
          revokedSessions,
          credentialsNote !== undefined,
        ),
        303,
      );
    },
  );

  // "Save these changes" from a test of an edit that passed: the values it ran with, checked
  // again as Save does (the connection may have changed meanwhile).
  app.post(
    `${testPaths.result(":id")}/save`,
    { preHandler: [admin, app.csrfProtection] },
    async (request, reply) => {
      const { session, row, settings, secret } = await keptValues(request);
      const editing = settings?.editing;
      if (!settings || !editing || secret === undefined) {
        return reply.redirect(testPaths.result(row.id), 303);
      }
      const connection = await findConnection(ctx.store.db, session.organizationId, editing);
      if (connection?.protocol !== "oidc") {
        throw new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
      }
      try {
        const { changed } = await updateConnection(
          ctx,
          actorOf(request),
          editing,
          testedInput(settings, secret),
        );
        return reply.redirect(
          updatedLocation(await connectionHome(ctx, session.organizationId, editing), changed.length > 0),
          303,
        );
      } catch (error) {
        // Something changed since the test (the name was taken, the secret revoked): the edit
        // form shows why, with the tested values.
        const refusal = toFormRefusal(error);
        if (!refusal) throw error;
        return sendHtml(
          reply,
          editPage({
            session,
            csrfToken: reply.generateCsrf(),
            connection,
            values: formValues(settings),
            refusal,
            secretSubmitted: true,
            organizationDomains: await listDomainViews(ctx, session.organizationId),
            usesKey: connection.oidc.tokenEndpointAuthMethod === "private_key_jwt",
          }),
          refusal.status,
        );
      }
    },
  );
}

/**
 * The form's values again after a test, the secret excepted: "Back to the form". `editing`: the
 * connection whose edit form asks; a test of the Setup form's values (or another connection's
 * edit) gives nothing to it, and the other way round.
 */
export async function formValuesFromTest(
  ctx: AppContext,
  organizationId: string,
  sessionHash: string,
  testId: unknown,
  editing?: string,
): Promise<ConnectionFormValues | undefined> {
  if (!isUuid(testId)) return undefined;
  let row: ConnectionTestRow;
  try {
    row = await openConnectionTest(ctx, organizationId, testId, sessionHash);
  } catch (error) {
    if (isGatehouseError(error)) return undefined;
    throw error;
  }
  const settings: unknown = row.settings ? JSON.parse(row.settings) : undefined;
  if (!settings || isSamlUnsavedSettings(settings)) return undefined;
  const values = settings as UnsavedSettings;
  if (values.editing !== editing) return undefined;
  return formValues(values);
}

function formValues(settings: UnsavedSettings): ConnectionFormValues {
  return {
    name: settings.name,
    issuer: settings.issuer,
    clientId: settings.clientId,
    domains: settings.domains.join(", "),
    tokenEndpointAuthMethod: settings.tokenEndpointAuthMethodChoice,
    extraScopes: settings.extraScopes.join(" "),
    emailClaim: settings.emailClaim === "email" ? "" : settings.emailClaim,
    clockSkewSeconds: settings.clockSkewSeconds === 60 ? "" : String(settings.clockSkewSeconds),
    allowedTenants: (settings.allowedTenants ?? []).join(" "),
    groupsClaim: settings.roles?.groupsClaim === "groups" ? "" : (settings.roles?.groupsClaim ?? ""),
    roleRules: formatRoleRules(settings.roles?.rules ?? []),
    defaultRole: settings.roles?.defaultRole ?? "member",
  };
}
