import type { FastifyReply } from "fastify";
import { INTERACTION_PATH, interactionUidOf } from "../domain/application-request.js";
import { errorSpec } from "../error-registry.js";
import { remedyOf } from "../error-remedy.js";
import { ssoRequiredPage } from "../login/pages.js";
import type { AppContext } from "../server/context.js";
import { sendError } from "../server/error-response.js";
import { findApplication } from "../store/applications.js";
import { findProviderRecord } from "../store/provider-records.js";
import type { SignInResult, SwitchAccount } from "./complete.js";

/** The query string that keeps `returnTo`, unless it is the home page (the default). */
function keeping(returnTo: string | undefined): Record<string, string> {
  return returnTo === undefined || returnTo === "/" ? {} : { return_to: returnTo };
}

function withQuery(path: string, query: Record<string, string>): string {
  const search = new URLSearchParams(query).toString();
  return search ? `${path}?${search}` : path;
}

/** "Sign in with another account": the same start, asking the IdP to sign someone in afresh. */
function switchAccountHref(switchAccount: SwitchAccount, returnTo: string | undefined): string {
  const start =
    "email" in switchAccount
      ? { email: switchAccount.email }
      : { organization: switchAccount.organization, connection: switchAccount.connection };
  return withQuery("/sso/start", { ...start, reauthenticate: "1", ...keeping(returnTo) });
}

/**
 * When the failed sign-in was an application's request: the application's name and where the
 * person gives up on it, so that the application hears `access_denied` rather than nothing.
 * Undefined when the request has expired (or was never one).
 */
async function applicationOf(
  ctx: AppContext,
  returnTo: string | undefined,
): Promise<{ action: string; label: string } | undefined> {
  const uid = returnTo === undefined ? undefined : interactionUidOf(returnTo);
  if (uid === undefined) return undefined;
  const interaction = await findProviderRecord(ctx.store.db, "Interaction", "id", uid, ctx.now());
  const params = interaction?.payload.params;
  const clientId =
    params && typeof params === "object" && "client_id" in params ? params.client_id : undefined;
  if (typeof clientId !== "string") return undefined;
  const application = await findApplication(ctx.store.db, clientId);
  if (!application) return undefined;
  return { action: `${INTERACTION_PATH}/${uid}/abort`, label: `Back to ${application.name}` };
}

/**
 * A sign-in's outcome as the browser sees it: home (or `return_to`) on success, the page for
 * SSO enforcement, or the error boundary's page with the reference code the refusal was
 * audited under. Its buttons keep `return_to`: a refusal inside an application's request
 * starts again inside it, or goes back to the application.
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
      result.switchAccount !== undefined
        ? {
            href: switchAccountHref(result.switchAccount, result.returnTo),
            label: "Sign in with another account",
          }
        : {
            href: withQuery("/login", keeping(result.returnTo)),
            label: fruitless ? "Back to sign-in" : "Start signing in again",
          },
    back: await applicationOf(ctx, result.returnTo).catch(() => undefined),
    // The pipeline has noted the refusal on the request line already.
    logged: true,
    anonymous: true,
    remedy,
  });
}
