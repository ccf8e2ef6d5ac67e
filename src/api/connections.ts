import type { FastifyInstance, FastifyRequest } from "fastify";
import { urlFor } from "../config.js";
import { createConnection } from "../connections/create.js";
import {
  deleteConnection,
  disableConnection,
  enableConnection,
  signOutConnectionSessions,
} from "../connections/delete.js";
import { testSavedConnection, testUnsavedConnection } from "../connections/test.js";
import { toConnectionView } from "../connections/view.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { findConnection, listConnections } from "../store/connections.js";
import { apiAuthentication, apiCaller, callerOrganizationId, callerUserId } from "./auth.js";
import { isUuid, parseCreateConnectionBody } from "./input.js";

/** Another organization's id answers exactly like an id that does not exist, so ids don't leak. */
function notFound(): GatehouseError {
  return new GatehouseError("CONNECTION_NOT_FOUND", "No such connection in this organization.");
}

function connectionId(params: unknown): string {
  const id = (params as { id?: unknown }).id;
  if (typeof id !== "string" || !isUuid(id)) throw notFound();
  return id.toLowerCase();
}

export function registerConnectionRoutes(api: FastifyInstance, ctx: AppContext): void {
  const admin = { preHandler: apiAuthentication(api, ctx, "admin") };

  api.get("/connections", admin, async (request) => {
    const connections = await listConnections(ctx.store.db, callerOrganizationId(request));
    return { data: connections.map((c) => toConnectionView(ctx.config, c)) };
  });

  api.post("/connections", admin, async (request, reply) => {
    const input = parseCreateConnectionBody(request.body);
    const caller = apiCaller(request);
    const { connection, credentialsNote } = await createConnection(ctx, {
      organizationId: callerOrganizationId(request),
      input,
      actorUserId: callerUserId(request),
      // The admin's own password session survives the switch to SSO; see createConnection.
      actorSessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
      ip: request.ip,
    });
    return reply
      .status(201)
      .header("location", urlFor(ctx.config, `api/v1/connections/${connection.id}`))
      .send(credentialsNote ? { ...connection, warnings: [credentialsNote] } : connection);
  });

  // A test sign-in of unsaved values: checked as Create checks them, answered with the URL to
  // open in a browser signed in as an admin of the organization.
  api.post("/connections/test", admin, async (request, reply) => {
    const started = await testUnsavedConnection(
      ctx,
      actorOf(request),
      parseCreateConnectionBody(request.body),
    );
    return reply.status(201).send(started);
  });

  api.post("/connections/:id/test", admin, async (request, reply) => {
    const started = await testSavedConnection(ctx, actorOf(request), connectionId(request.params));
    return reply.status(201).send(started);
  });

  api.get("/connections/:id", admin, async (request) => {
    const connection = await findConnection(
      ctx.store.db,
      callerOrganizationId(request),
      connectionId(request.params),
    );
    if (!connection) throw notFound();
    return toConnectionView(ctx.config, connection);
  });

  api.delete("/connections/:id", admin, async (request, reply) => {
    const caller = apiCaller(request);
    await deleteConnection(
      ctx,
      {
        organizationId: callerOrganizationId(request),
        actorUserId: callerUserId(request),
        actorSessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
        ip: request.ip,
      },
      connectionId(request.params),
    );
    return reply.status(204).send();
  });

  // Body (optional): {"endSessions": false} keeps the sessions the connection issued.
  api.post("/connections/:id/disable", admin, async (request) => {
    const body = (request.body ?? {}) as { endSessions?: unknown };
    if (body.endSessions !== undefined && typeof body.endSessions !== "boolean") {
      throw new GatehouseError("VALIDATION_FAILED", "endSessions must be true or false.", {
        fields: { endSessions: "must be true or false" },
      });
    }
    const id = connectionId(request.params);
    const { sessionsEnded } = await disableConnection(ctx, actorOf(request), id, {
      endSessions: body.endSessions ?? true,
    });
    return { ...(await viewOf(request, id)), sessionsEnded };
  });

  api.post("/connections/:id/enable", admin, async (request) => {
    const id = connectionId(request.params);
    const { sessionsEnded } = await enableConnection(ctx, actorOf(request), id);
    return { ...(await viewOf(request, id)), sessionsEnded };
  });

  // "Sign out everyone who signed in through this connection".
  api.post("/connections/:id/sessions/revoke", admin, async (request) => {
    const sessionsEnded = await signOutConnectionSessions(
      ctx,
      actorOf(request),
      connectionId(request.params),
    );
    return { sessionsEnded };
  });

  function actorOf(request: FastifyRequest) {
    const caller = apiCaller(request);
    return {
      organizationId: callerOrganizationId(request),
      actorUserId: callerUserId(request),
      actorSessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
      ip: request.ip,
    };
  }

  async function viewOf(request: FastifyRequest, id: string) {
    const connection = await findConnection(ctx.store.db, callerOrganizationId(request), id);
    if (!connection) throw notFound();
    return toConnectionView(ctx.config, connection);
  }
}
