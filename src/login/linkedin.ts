import type { FastifyInstance } from "fastify";
import { safeReturnTo } from "../domain/return-to.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { beginSignIn } from "../sign-in/begin.js";
import { sendBrowserStep } from "../sign-in/browser-step.js";
import { completeSignIn } from "../sign-in/complete.js";
import { renderSignInResult } from "../sign-in/result-page.js";
import { textField } from "../web/form.js";

/**
 * "Continue with LinkedIn": an adapter of its own (src/sso/oidc/adapter.ts, the same OpenID
 * Connect code as enterprise SSO with LinkedIn as the provider) through the same pipeline,
 * which checks SSO enforcement instead of a connection's domains.
 */
export function registerLinkedinRoutes(app: FastifyInstance, ctx: AppContext): void {
  const configured = () => {
    if (!ctx.config.linkedin.clientId || !ctx.config.linkedin.clientSecret) {
      throw new GatehouseError("LINKEDIN_NOT_CONFIGURED", "LinkedIn sign-in is not configured.");
    }
    return ctx.signIn.get(ctx, "linkedin");
  };

  app.get("/login/linkedin", async (request, reply) => {
    const adapter = configured();
    const returnTo = safeReturnTo(textField(request.query, "return_to"));
    const step = await beginSignIn(
      ctx,
      request,
      reply,
      adapter,
      { connection: undefined, saved: true },
      { returnTo },
    );
    return sendBrowserStep(reply, step);
  });

  app.get("/login/linkedin/callback", async (request, reply) => {
    const result = await completeSignIn(ctx, request, reply, configured());
    return renderSignInResult(ctx, reply, result, "linkedin");
  });
}
