import type { FastifyReply, FastifyRequest } from "fastify";
import type { Interaction, Provider } from "oidc-provider";
import { interactionReturnTo } from "../domain/application-request.js";
import { emailDomain, normalizeEmail } from "../domain/email.js";
import { GatehouseError } from "../errors.js";
import { passwordStepPage } from "../login/pages.js";
import type { AppContext } from "../server/context.js";
import { type ActiveSession, currentSession } from "../session/validate.js";
import { sendToConnection } from "../sign-in/begin.js";
import { findEnabledConnectionForDomain, listConnections } from "../store/connections.js";
import { findOrganizationBySlug } from "../store/organizations.js";
import { amrByMethod } from "./claims.js";
import { authTimeOf } from "./gatehouse-session.js";

function expired(detail: string, cause?: unknown): GatehouseError {
  return new GatehouseError("PROVIDER_INTERACTION_EXPIRED", "This sign-in has expired.", { detail, cause });
}

async function interactionFor(
  provider: Provider,
  request: FastifyRequest,
  reply: FastifyReply,
  uid: string,
): Promise<Interaction> {
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(request.raw, reply.raw);
  } catch (error) {
    throw expired("interaction cookie or record not found", error);
  }
  // The interaction cookie, not the URL, decides which sign-in resumes: an old tab or a copied
  // link must not complete someone else's.
  if (interaction.uid !== uid) throw expired("interaction in the URL is not the browser's");
  return interaction;
}

function stringParam(interaction: Interaction, name: string): string | undefined {
  const value = interaction.params[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/**
 * The application asked for the person to authenticate (again): `prompt=login`, or `max_age`
 * (oidc-provider's reasons `login_prompt` and `max_age`; the latter also when no session of its
 * own says how old the last sign-in is). OIDC Core 3.1.2.1: the OP must then re-authenticate
 * the person, so whatever IdP the sign-in reaches is asked to (`prompt=login`, `ForceAuthn`).
 */
export function wantsFreshSignIn(interaction: Interaction): boolean {
  const { reasons } = interaction.prompt;
  return reasons.includes("login_prompt") || reasons.includes("max_age");
}

/**
 * Whether the browser's Gatehouse session answers this sign-in: any live session does, except
 * that `prompt=login` wants a fresh sign-in made after the application asked, and `max_age` a
 * session young enough or such a fresh sign-in. Fresh: a password typed, or an IdP asked to
 * re-authenticate; a session an IdP's session answered silently (a sign-in at /login in another
 * tab, say) does not count, or the person at the keyboard could skip the IdP's password.
 * oidc-provider dates the request in whole seconds: a sign-in in that second counts as after it.
 */
export function sessionSatisfies(interaction: Interaction, session: ActiveSession, now: number): boolean {
  const { reasons } = interaction.prompt;
  const freshForThisRequest = session.createdAt >= interaction.iat * 1000 && session.authenticatedAfresh;
  if (reasons.includes("login_prompt") && !freshForThisRequest) return false;
  if (reasons.includes("max_age")) {
    const maxAge = Number(stringParam(interaction, "max_age") ?? interaction.params.max_age);
    if (Number.isFinite(maxAge) && session.createdAt < now - maxAge * 1000 && !freshForThisRequest)
      return false;
  }
  return true;
}

/** Finishes the login step with the Gatehouse session; oidc-provider then issues the code. */
async function finishLogin(
  provider: Provider,
  request: FastifyRequest,
  reply: FastifyReply,
  session: ActiveSession,
): Promise<string> {
  return provider.interactionResult(
    request.raw,
    reply.raw,
    {
      login: {
        accountId: session.userId,
        ts: authTimeOf(session),
        amr: amrByMethod[session.method],
        remember: true,
      },
    },
    { mergeWithLastSubmission: false },
  );
}

/**
 * Applications are registered by the operator, like an IdP administrator assigning an app:
 * people are never asked to consent. Grants exactly what oidc-provider reports missing.
 */
async function consentAutomatically(
  provider: Provider,
  request: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
): Promise<string> {
  const accountId = interaction.session?.accountId;
  const clientId = stringParam(interaction, "client_id");
  if (accountId === undefined || clientId === undefined) throw expired("consent without a signed-in person");
  const existing =
    interaction.grantId === undefined ? undefined : await provider.Grant.find(interaction.grantId);
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const { details } = interaction.prompt;
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionResult(
    request.raw,
    reply.raw,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
}

/**
 * The person has no usable Gatehouse session: Gatehouse's own sign-in, returning here.
 * `organization=<slug>` goes straight to that organization's IdP; `login_hint=<email>` skips
 * the email step (to the email's IdP, or the password step); otherwise the email-first page.
 * When the application wants a fresh sign-in, the `return_to` says so, and every way from here
 * to an IdP asks it to re-authenticate (src/domain/application-request.ts).
 */
async function sendToSignIn(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
): Promise<FastifyReply> {
  const reauthenticate = wantsFreshSignIn(interaction);
  const returnTo = interactionReturnTo(interaction.uid, reauthenticate);
  const email = normalizeEmail(stringParam(interaction, "login_hint") ?? "");
  const slug = stringParam(interaction, "organization");
  if (slug !== undefined) {
    const organization = await findOrganizationBySlug(ctx.store.db, slug);
    const connection = organization
      ? (await listConnections(ctx.store.db, organization.id)).find((c) => c.status === "enabled")
      : undefined;
    if (connection) {
      return sendToConnection(
        ctx,
        request,
        reply,
        connection,
        { returnTo, loginHint: email ?? undefined, reauthenticate },
        303,
      );
    }
  }
  if (email) {
    // The same routing as the email step of /login.
    const connection = await findEnabledConnectionForDomain(ctx.store.db, emailDomain(email), ctx.now());
    if (connection) {
      return sendToConnection(
        ctx,
        request,
        reply,
        connection,
        { returnTo, loginHint: email, reauthenticate },
        303,
      );
    }
    return reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-store")
      .send(
        passwordStepPage({
          csrfToken: reply.generateCsrf(),
          email,
          returnTo,
          linkedinEnabled: ctx.config.linkedin.clientId !== undefined,
        }),
      );
  }
  return reply
    .header("cache-control", "no-store")
    .redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, 303);
}

/** GET /oidc/interaction/:uid — where oidc-provider sends the browser when it needs a person. */
export async function handleInteraction(
  ctx: AppContext,
  provider: Provider,
  request: FastifyRequest<{ Params: { uid: string } }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const interaction = await interactionFor(provider, request, reply, request.params.uid);
  reply.header("cache-control", "no-store");
  if (interaction.prompt.name === "consent") {
    return reply.redirect(await consentAutomatically(provider, request, reply, interaction), 303);
  }
  if (interaction.prompt.name !== "login") throw expired(`unsupported prompt ${interaction.prompt.name}`);
  const session = await currentSession(ctx, request);
  if (session && sessionSatisfies(interaction, session, ctx.now())) {
    return reply.redirect(await finishLogin(provider, request, reply, session), 303);
  }
  return sendToSignIn(ctx, request, reply, interaction);
}

/**
 * POST /oidc/interaction/:uid/abort — the person gives up on the application's sign-in (a
 * refusal page's "Back to <application>"): the application hears `access_denied`, as from an
 * OP that could not authenticate the person (OIDC Core 3.1.2.6), rather than never hearing back.
 */
export async function abortInteraction(
  provider: Provider,
  request: FastifyRequest<{ Params: { uid: string } }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  await interactionFor(provider, request, reply, request.params.uid);
  const resume = await provider.interactionResult(
    request.raw,
    reply.raw,
    { error: "access_denied", error_description: "The person did not complete signing in." },
    { mergeWithLastSubmission: false },
  );
  return reply.header("cache-control", "no-store").redirect(resume, 303);
}
