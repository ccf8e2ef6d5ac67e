import type { FastifyInstance } from "fastify";
import { urlFor } from "../config.js";
import { createConnection } from "../connections/create.js";
import { deleteConnection } from "../connections/delete.js";
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
}
