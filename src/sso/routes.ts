import type { FastifyInstance } from "fastify";
import { safeReturnTo } from "../domain/return-to.js";
import { routeSsoEntry } from "../domain/sso-routing.js";
import { errorSpec } from "../error-registry.js";
import type { AppContext } from "../server/context.js";
import { sendToConnection, TRANSACTION_TTL_MS } from "../sign-in/begin.js";
import { completeSignIn } from "../sign-in/complete.js";
import { limitSignInStarts } from "../sign-in/rate-limit.js";
import { renderSignInResult } from "../sign-in/result-page.js";
import { textField } from "../web/form.js";
import { findConnectionForRoute } from "./find-connection.js";
import { registerConnectionJwksRoute } from "./jwks.js";
import { connectionChoicePage, ssoScreenPage } from "./pages.js";

const HTML = "text/html; charset=utf-8";

export function registerSsoRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerConnectionJwksRoute(app, ctx);
  app.get("/sso", async (request, reply) => {
    const returnTo = safeReturnTo(textField(request.query, "return_to"));
    return reply.type(HTML).header("cache-control", "no-store").send(ssoScreenPage({ returnTo }));
  });

  // ?email=<work email>, ?organization=<slug>[&connection=<name>] (the organization's own
  // sign-in URL), or ?connection=<slug or domain>. The SSO screen's single box sends `email`,
  // whatever was typed. A connection name alone routes nowhere (src/domain/sso-routing.ts).
  app.get("/sso/start", async (request, reply) => {
    const returnTo = safeReturnTo(textField(request.query, "return_to"));
    const entry = {
      email: textField(request.query, "email", 320),
      organization: textField(request.query, "organization", 200),
      connection: textField(request.query, "connection", 200),
    };
    const entered = (entry.email || entry.connection || entry.organization).trim();
    // Before any lookup: an unknown name and one that exists answer alike, at the same rate.
    // Counted with the start's own limits in one statement; the sign-in begun below is not
    // counted again.
    await limitSignInStarts(ctx, request, TRANSACTION_TTL_MS, { lookup: true });
    const route = routeSsoEntry(entry);
    const found = await findConnectionForRoute(ctx, route);
    if (found.kind === "choice") {
      return reply
        .type(HTML)
        .header("cache-control", "no-store")
        .send(
          connectionChoicePage({
            organization: found.organization,
            connections: found.connections.map((c) => c.name),
            returnTo,
          }),
        );
    }
    if (found.kind === "none") {
      return reply
        .status(errorSpec(route.by === "nothing" ? "VALIDATION_FAILED" : "SSO_NO_CONNECTION").status)
        .type(HTML)
        .send(
          ssoScreenPage({
            value: entered,
            returnTo,
            error:
              route.by === "nothing"
                ? "Enter your work email or your organization's sign-in name."
                : `No single sign-on is set up for "${entered}". Check the address, or use the sign-in link your administrator gave you.`,
          }),
        );
    }
    const { connection } = found;
    return sendToConnection(ctx, request, reply, connection, {
      returnTo,
      loginHint: found.loginHint,
      // "Sign in with another account" after the IdP signed in one the connection refused.
      reauthenticate: textField(request.query, "reauthenticate", 10) === "1",
    });
  });

  app.get("/sso/oidc/callback", async (request, reply) => {
    const result = await completeSignIn(ctx, request, reply, ctx.signIn.get(ctx, "oidc"));
    return renderSignInResult(ctx, reply, result, "password");
  });
}
