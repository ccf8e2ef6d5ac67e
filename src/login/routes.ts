import type { FastifyInstance } from "fastify";
import { emailDomain, normalizeEmail } from "../domain/email.js";
import { safeReturnTo } from "../domain/return-to.js";
import { errorSpec } from "../error-registry.js";
import type { AppContext } from "../server/context.js";
import { createSession } from "../session/create.js";
import { sendToConnection } from "../sign-in/begin.js";
import { limitConnectionLookups } from "../sign-in/rate-limit.js";
import { findEnabledConnectionForDomain } from "../store/connections.js";
import { textField } from "../web/form.js";
import { knownAccounts, rememberAccount } from "./known-browser.js";
import { registerLinkedinRoutes } from "./linkedin.js";
import { signOut } from "./logout.js";
import { emailStepPage, passwordStepPage, rateLimitedPage, ssoRequiredPage } from "./pages.js";
import { signInWithPassword } from "./password.js";

const HTML = "text/html; charset=utf-8";

export function registerLoginRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerLinkedinRoutes(app, ctx);
  const linkedinEnabled = ctx.config.linkedin.clientId !== undefined;

  app.get("/login", async (request, reply) => {
    const query = request.query;
    const email = textField(query, "email", 320);
    const returnTo = safeReturnTo(textField(query, "return_to"));
    const signedOut = textField(query, "signed_out", 10) === "1";
    return reply
      .type(HTML)
      .header("cache-control", "no-store")
      .send(
        emailStepPage({
          csrfToken: reply.generateCsrf(),
          email,
          returnTo,
          linkedinEnabled,
          notice: signedOut ? "You have been signed out." : undefined,
        }),
      );
  });

  app.post("/login", { preHandler: app.csrfProtection }, async (request, reply) => {
    const rawEmail = textField(request.body, "email", 320);
    const returnTo = safeReturnTo(textField(request.body, "return_to"));
    const email = normalizeEmail(rawEmail);
    if (!email) {
      return reply
        .status(errorSpec("VALIDATION_FAILED").status)
        .type(HTML)
        .send(
          emailStepPage({
            csrfToken: reply.generateCsrf(),
            email: rawEmail,
            returnTo,
            linkedinEnabled,
            error: rawEmail.trim()
              ? "Enter a valid email address, like name@company.com."
              : "Enter your email address.",
          }),
        );
    }
    // Before the domain lookup: whether a domain has SSO cannot be asked faster than the limit.
    await limitConnectionLookups(ctx, request.ip);
    const connection = await findEnabledConnectionForDomain(ctx.store.db, emailDomain(email), ctx.now());
    if (connection) {
      return sendToConnection(ctx, request, reply, connection, { returnTo, loginHint: email }, 303);
    }
    return reply
      .type(HTML)
      .header("cache-control", "no-store")
      .send(passwordStepPage({ csrfToken: reply.generateCsrf(), email, returnTo, linkedinEnabled }));
  });

  // The password step is only ever an answer to POST /login. A reload, a bookmark or a back
  // button after a wrong password asks for it by GET: start again at the email step, keeping
  // the email and a return_to that is a same-origin path (anything else is dropped).
  app.get("/login/password", async (request, reply) => {
    const email = textField(request.query, "email", 320).trim();
    const returnTo = safeReturnTo(textField(request.query, "return_to"));
    const query = new URLSearchParams();
    if (email) query.set("email", email);
    if (returnTo !== "/") query.set("return_to", returnTo);
    const search = query.toString();
    return reply.redirect(search ? `/login?${search}` : "/login", 303);
  });

  app.post("/login/password", { preHandler: app.csrfProtection }, async (request, reply) => {
    const email = textField(request.body, "email", 320);
    const password = textField(request.body, "password", 1024);
    const returnTo = safeReturnTo(textField(request.body, "return_to"));
    const result = await signInWithPassword(ctx, {
      email,
      password,
      ip: request.ip,
      knownAccounts: knownAccounts(ctx.config, request),
    });
    if (result.ok) {
      await createSession(ctx, request, reply, {
        userId: result.userId,
        organizationId: result.organizationId,
        method: "password",
      });
      rememberAccount(ctx.config, request, reply, result.userId);
      return reply.redirect(returnTo, 303);
    }
    reply.type(HTML).header("cache-control", "no-store");
    switch (result.code) {
      case "AUTH_RATE_LIMITED":
        return reply
          .status(errorSpec(result.code).status)
          .header("retry-after", String(result.retryAfterSeconds))
          .send(rateLimitedPage(result.retryAfterSeconds));
      case "AUTH_SSO_REQUIRED":
        return reply.status(errorSpec(result.code).status).send(
          ssoRequiredPage({
            organizationName: result.organizationName,
            email: result.email,
            returnTo,
            attempted: "password",
          }),
        );
      case "AUTH_INVALID_CREDENTIALS":
        return reply.status(errorSpec(result.code).status).send(
          passwordStepPage({
            csrfToken: reply.generateCsrf(),
            email: normalizeEmail(email) ?? email,
            returnTo,
            error: "That email and password don't match an account. Check them and try again.",
            linkedinEnabled,
          }),
        );
    }
  });

  app.post("/logout", { preHandler: app.csrfProtection }, async (request, reply) => {
    const target = await signOut(ctx, request, reply);
    return reply.redirect(target, 303);
  });
}
