import type { FastifyReply } from "fastify";
import { errorSpec } from "../error-registry.js";
import { remedyOf } from "../error-remedy.js";
import { ssoRequiredPage } from "../login/pages.js";
import type { AppContext } from "../server/context.js";
import { sendError } from "../server/error-response.js";
import type { SignInResult } from "./complete.js";

/**
 * A sign-in's outcome as the browser sees it: home (or `return_to`) on success, the page for
 * SSO enforcement, or the error boundary's page with the reference code the refusal was
 * audited under.
 */
export async function renderSignInResult(
  ctx: AppContext,
  reply: FastifyReply,
  result: SignInResult,
  attempted: "password" | "linkedin",
): Promise<FastifyReply> {
  reply.header("cache-control", "no-store");
  if (result.ok) return reply.redirect(result.returnTo, 303);
  if ("ssoRequired" in result) {
    return reply
      .status(errorSpec("AUTH_SSO_REQUIRED").status)
      .type("text/html; charset=utf-8")
      .send(ssoRequiredPage({ ...result.ssoRequired, attempted }));
  }
  // LinkedIn's client is the operator's: no organization administrator can fix it.
  const remedy = attempted !== "linkedin";
  const fruitless = remedy && remedyOf(result.error) === "administrator";
  return sendError(ctx, reply.request, reply, result.error, {
    traceId: result.traceId,
    traceListed: result.listed,
    message:
      result.refusedEmail === undefined
        ? undefined
        : `Your identity provider signed you in as ${result.refusedEmail}.`,
    // A button must not invite the attempt the page says will fail again; after the IdP signed
    // in an account the connection refuses, starting again would reuse that IdP session.
    next:
      result.switchAccountFor !== undefined
        ? {
            href: `/sso/start?email=${encodeURIComponent(result.switchAccountFor)}&reauthenticate=1`,
            label: "Sign in with another account",
          }
        : { href: "/login", label: fruitless ? "Back to sign-in" : "Start signing in again" },
    // The pipeline has noted the refusal on the request line already.
    logged: true,
    anonymous: true,
    remedy,
  });
}
