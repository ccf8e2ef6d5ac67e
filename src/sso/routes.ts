import type { FastifyInstance, FastifyReply } from "fastify";
import { emailDomain, normalizeEmail } from "../domain/email.js";
import { activeDomains } from "../domain/organization-domains.js";
import { safeReturnTo } from "../domain/return-to.js";
import { ssoRequiredPage } from "../login/pages.js";
import type { AppContext } from "../server/context.js";
import { findConnectionByName, findEnabledConnectionForDomain } from "../store/connections.js";
import { errorPage } from "../web/error-page.js";
import { textField } from "../web/form.js";
import { registerConnectionJwksRoute } from "./jwks.js";
import { connectionTarget } from "./oidc/provider.js";
import { startSignIn } from "./oidc/start.js";
import { ssoScreenPage } from "./pages.js";
import { limitConnectionLookups } from "./rate-limit.js";
import { finishSignIn, type SignInResult } from "./sign-in.js";

const HTML = "text/html; charset=utf-8";

export function registerSsoRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerConnectionJwksRoute(app, ctx);
  app.get("/sso", async (request, reply) => {
    const returnTo = safeReturnTo(textField(request.query, "return_to"));
    return reply.type(HTML).header("cache-control", "no-store").send(ssoScreenPage({ returnTo }));
  });

  // Contract: ?email=<work email> or ?connection=<name>. The SSO screen's single box may hold
  // either, so an entry without an @ is tried as a connection name.
  app.get("/sso/start", async (request, reply) => {
    const returnTo = safeReturnTo(textField(request.query, "return_to"));
    const rawEmail = textField(request.query, "email", 320).trim();
    const rawName = textField(request.query, "connection", 200).trim();
    const entered = rawEmail || rawName;
    // Before any lookup: an unknown name and one that exists answer alike, at the same rate.
    await limitConnectionLookups(ctx, request.ip);
    let connection: Awaited<ReturnType<typeof findConnectionByName>>;
    let loginHint: string | undefined;
    if (rawEmail.includes("@")) {
      const email = normalizeEmail(rawEmail);
      if (email) {
        connection = await findEnabledConnectionForDomain(ctx.store.db, emailDomain(email), ctx.now());
        loginHint = email;
      }
    } else if (entered) {
      const byName = await findConnectionByName(ctx.store.db, entered);
      // A connection with no verified domain signs no one in: the callback would refuse every
      // email it asserts, so it is refused here, before the browser is sent to the IdP.
      const usable =
        byName?.status === "enabled" &&
        activeDomains(byName.organizationId, byName.domainStatuses, ctx.now()).length > 0;
      connection = usable ? byName : undefined;
    }
    if (!connection) {
      return reply
        .status(entered ? 404 : 400)
        .type(HTML)
        .send(
          ssoScreenPage({
            value: entered,
            returnTo,
            error: entered
              ? `No single sign-on is set up for "${entered}". Check the address or the connection name, or ask your administrator.`
              : "Enter your work email or your company's connection name.",
          }),
        );
    }
    const url = await startSignIn(ctx, request, reply, connectionTarget(ctx, connection), {
      returnTo,
      loginHint,
    });
    return reply.header("cache-control", "no-store").redirect(url, 302);
  });

  app.get("/sso/oidc/callback", async (request, reply) => {
    const result = await finishSignIn(ctx, request, reply, "sso");
    return renderSignInResult(reply, result, "password");
  });
}

/** Renders a callback's outcome: home (or return_to) on success, a page that explains otherwise. */
export function renderSignInResult(
  reply: FastifyReply,
  result: SignInResult,
  attempted: "password" | "linkedin",
): FastifyReply {
  reply.header("cache-control", "no-store");
  if (result.ok) return reply.redirect(result.returnTo, 303);
  if ("ssoRequired" in result) {
    return reply
      .status(403)
      .type(HTML)
      .send(ssoRequiredPage({ ...result.ssoRequired, attempted }));
  }
  if (result.error.status === 503) reply.header("retry-after", "5");
  return reply
    .status(result.error.status)
    .type(HTML)
    .send(
      errorPage({
        code: result.error.code,
        traceId: result.traceId,
        next: { href: "/login", label: "Start signing in again" },
      }),
    );
}
