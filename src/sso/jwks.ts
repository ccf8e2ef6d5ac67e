import type { FastifyInstance } from "fastify";
import type { JWK } from "jose";
import { publicJwk } from "../connections/signing-key.js";
import { isUuid } from "../domain/ids.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { sendError } from "../server/error-response.js";
import { findConnectionById } from "../store/connections.js";

/**
 * The public JWKS of a connection that authenticates with `private_key_jwt`: the URL the
 * admin registers in their IdP. Public by design; it holds only the public half of the key.
 */
export function registerConnectionJwksRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Params: { id: string } }>("/sso/oidc/connections/:id/jwks.json", async (request, reply) => {
    const id = request.params.id.toLowerCase();
    const connection = isUuid(id) ? await findConnectionById(ctx.store.db, id) : undefined;
    const sealed = connection?.protocol === "oidc" ? connection.oidc.signingKeySealed : null;
    if (!connection || !sealed) {
      return sendError(
        ctx,
        request,
        reply,
        new GatehouseError("NOT_FOUND", "No key set for this connection."),
        {
          json: true,
        },
      );
    }
    let key: JWK;
    try {
      key = publicJwk(JSON.parse(ctx.box.open(sealed, `connection-key:${connection.id}`)) as JWK);
    } catch (error) {
      throw new GatehouseError("INTERNAL", "The connection's signing key could not be opened.", {
        cause: error,
      });
    }
    return reply
      .header("cache-control", "public, max-age=300")
      .type("application/jwk-set+json")
      .send({ keys: [key] });
  });
}
