import type { FastifyInstance } from "fastify";
import { finishLogoutReturn, LOGOUT_COOKIE } from "../login/logout.js";
import { applicationLogoutReturn } from "../provider/logout.js";
import type { AppContext } from "../server/context.js";
import { hostCookieName } from "../session/cookie.js";
import { currentSession } from "../session/validate.js";
import { textField } from "../web/form.js";
import { html } from "../web/html.js";
import { layout } from "../web/layout.js";
import { utcTime } from "../web/time.js";

const methodLabel = { password: "Password", linkedin: "LinkedIn", sso: "Single sign-on" } as const;

export function registerHomeRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/", async (request, reply) => {
    // The sign-out redirect URI the admin registers is the home page; the IdP's RP-initiated
    // logout comes back here with `state`, which is checked, then taken out of the address.
    const returnedState = textField(request.query, "state", 200) || undefined;
    if (returnedState || request.cookies[hostCookieName(ctx.config, LOGOUT_COOKIE)] !== undefined) {
      await finishLogoutReturn(ctx, request, reply, returnedState);
      // An application's RP-initiated logout went through the IdP's: back to the application.
      const application = applicationLogoutReturn(ctx, request, reply);
      if (application) return reply.header("cache-control", "no-store").redirect(application, 303);
      if (returnedState) return reply.header("cache-control", "no-store").redirect("/", 303);
    }
    const session = await currentSession(ctx, request);
    reply.type("text/html; charset=utf-8").header("cache-control", "no-store");
    if (!session) {
      return layout({
        title: "Welcome",
        variant: "auth",
        body: html`<section class="card auth-card">
  <h1>Welcome to Gatehouse</h1>
  <p class="lead">You are not signed in.</p>
  <p class="actions"><a class="btn btn-primary" href="/login">Sign in</a></p>
</section>`,
      });
    }
    const csrf = reply.generateCsrf();
    return layout({
      title: "Home",
      session,
      csrfToken: csrf,
      body: html`<section class="page-head">
  <h1>Hello${session.name ? html`, ${session.name}` : ""}</h1>
  <p class="muted">You are signed in to ${session.organizationName ?? "Gatehouse"}.</p>
</section>
<section class="card">
  <dl class="facts" data-testid="session-facts">
    <div><dt>Email</dt><dd data-field="email">${session.email}</dd></div>
    <div><dt>Organization</dt><dd data-field="organization">${session.organizationName ?? "None yet"}</dd></div>
    <div><dt>Role</dt><dd data-field="role">${session.role ?? "—"}</dd></div>
    <div><dt>Signed in with</dt><dd data-field="method">${methodLabel[session.method]}${session.connectionName ? html` · ${session.connectionName}` : ""}</dd></div>
    <div><dt>Session expires</dt><dd data-field="session-expires">${utcTime(session.expiresAt)}</dd></div>
  </dl>
  <form method="post" action="/logout" class="actions">
    <input type="hidden" name="_csrf" value="${csrf}">
    <button type="submit" class="btn btn-secondary" data-testid="home-sign-out">Sign out</button>
  </form>
</section>`,
    });
  });
}
