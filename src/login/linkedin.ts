import type { FastifyInstance } from "fastify";
import { safeReturnTo } from "../domain/return-to.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { linkedinTarget } from "../sso/oidc/provider.js";
import { startSignIn } from "../sso/oidc/start.js";
import { renderSignInResult } from "../sso/routes.js";
import { finishSignIn } from "../sso/sign-in.js";
import { textField } from "../web/form.js";

/**
 * "Continue with LinkedIn": LinkedIn speaks OpenID Connect, so this is the same protocol code
 * as enterprise SSO with LinkedIn as the provider, plus the SSO-enforcement check after it.
 */
export function registerLinkedinRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/login/linkedin", async (request, reply) => {
    const target = linkedinTarget(ctx);
    if (!target) throw new GatehouseError("LINKEDIN_NOT_CONFIGURED", "LinkedIn sign-in is not configured.");
    const returnTo = safeReturnTo(textField(request.query, "return_to"));
    const url = await startSignIn(ctx, request, reply, target, { returnTo });
    return reply.header("cache-control", "no-store").redirect(url, 302);
  });

  app.get("/login/linkedin/callback", async (request, reply) => {
    if (!linkedinTarget(ctx))
      throw new GatehouseError("LINKEDIN_NOT_CONFIGURED", "LinkedIn sign-in is not configured.");
    const result = await finishSignIn(ctx, request, reply, "linkedin");
    return renderSignInResult(reply, result, "linkedin");
  });
}
