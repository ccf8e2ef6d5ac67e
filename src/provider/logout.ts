import { fastifyCookie } from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { KoaMiddleware } from "oidc-provider";
import { isSecureBaseUrl } from "../config.js";
import { signOut } from "../login/logout.js";
import type { AppContext } from "../server/context.js";
import { cookieOptions, hostCookieName } from "../session/cookie.js";
import { PROVIDER_PREFIX, providerRoutes } from "./configuration.js";

/** Holds where the application asked to land after its RP-initiated logout (signed, short-lived). */
const APPLICATION_RETURN_COOKIE = "gh_app_logout";

function returnCookieName(app: AppContext): string {
  return hostCookieName(app.config, APPLICATION_RETURN_COOKIE);
}
const RETURN_SECONDS = 10 * 60;
export const LOGOUT_CONTINUE_PATH = `${PROVIDER_PREFIX}/logout/continue`;

function signer(app: AppContext): string {
  return app.cookieSecret.toString("base64url");
}

/**
 * RP-Initiated Logout through Gatehouse: oidc-provider ends its own session at the confirm
 * step and would send the browser straight to the application's post-logout URI (which it has
 * checked against the registration). Instead the browser goes through Gatehouse's sign-out
 * first, which ends the Gatehouse session and, for an SSO session, the IdP's, and lands at
 * that URI at the end.
 */
export function logoutThroughGatehouse(app: AppContext): KoaMiddleware {
  const confirmPath = `${providerRoutes.end_session}/confirm`;
  const issuer = app.config.baseUrl.toString().replace(/\/$/, "");
  return async (ctx, next) => {
    await next();
    if (ctx.method !== "POST" || ctx.path !== confirmPath) return;
    if (ctx.status !== 302 && ctx.status !== 303) return;
    const target = ctx.response.get("location");
    // A different person signing in mid-authorization: oidc-provider ends the old session on its
    // own and resumes the authorization; Gatehouse's session is the new person's and stays.
    if (!target || target.startsWith(`${issuer}${providerRoutes.authorization}`)) return;
    ctx.append(
      "Set-Cookie",
      fastifyCookie.serialize(returnCookieName(app), fastifyCookie.sign(target, signer(app)), {
        httpOnly: true,
        sameSite: "lax",
        secure: isSecureBaseUrl(app.config),
        path: "/",
        maxAge: RETURN_SECONDS,
      }),
    );
    ctx.status = 303;
    ctx.redirect(LOGOUT_CONTINUE_PATH);
  };
}

function pendingReturn(app: AppContext, request: FastifyRequest, reply: FastifyReply): string | undefined {
  const raw = request.cookies[returnCookieName(app)];
  if (raw === undefined) return undefined;
  reply.clearCookie(returnCookieName(app), cookieOptions(app.config));
  const unsigned = raw.length < 4000 ? fastifyCookie.unsign(raw, signer(app)) : undefined;
  return unsigned?.valid && unsigned.value ? unsigned.value : undefined;
}

/** GET /oidc/logout/continue: the Gatehouse half of an application's logout. */
export async function continueApplicationLogout(
  app: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  reply.header("cache-control", "no-store");
  const target = pendingReturn(app, request, reply);
  // Without the cookie the confirm step set, this is not an application's logout: do nothing.
  if (target === undefined) return reply.redirect("/", 303);
  const next = await signOut(app, request, reply);
  if (next === "/") return reply.redirect(target, 303);
  // On to the IdP's logout; its return to the home page continues to the application.
  reply.setCookie(
    returnCookieName(app),
    fastifyCookie.sign(target, signer(app)),
    cookieOptions(app.config, RETURN_SECONDS),
  );
  return reply.redirect(next, 303);
}

/** Called by the home page when an IdP's logout returns: where the application wants the browser. */
export function applicationLogoutReturn(
  app: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
): string | undefined {
  return pendingReturn(app, request, reply);
}
