import type { IncomingMessage } from "node:http";
import type { Interaction, KoaContext, KoaMiddleware, Provider } from "oidc-provider";
import type { AccountDirectory } from "./accounts.js";
import { loginPage, messagePage, pageHeaders } from "./pages.js";

export interface InteractionDeps {
  provider: Provider;
  accounts: AccountDirectory;
  /** Display details per client id. */
  clients: ReadonlyMap<string, { name: string; standsInFor: string }>;
  /** oidc-provider's `errors.SessionNotFound`, thrown when the interaction cookie or record is gone. */
  SessionNotFound: abstract new (
    ...args: never[]
  ) => Error;
}

const route = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;
const maxFormBytes = 16 * 1024;

/** The interaction in the cookie is not the one in the URL, or it has moved past that step. */
class StaleInteraction extends Error {}

class BadForm extends Error {}

function sendHtml(ctx: KoaContext, status: number, body: string): void {
  for (const [name, value] of Object.entries(pageHeaders)) ctx.set(name, value);
  ctx.status = status;
  ctx.type = "html";
  ctx.body = body;
}

function seeOther(ctx: KoaContext, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  if (!req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
    throw new BadForm("expected an application/x-www-form-urlencoded body");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxFormBytes) throw new BadForm("form body too large");
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/**
 * The sign-in page and automatic consent. Runs as Koa middleware in front of oidc-provider's
 * routes, because oidc-provider leaves the interaction UI to the host application.
 */
export function interactionRoutes(deps: InteractionDeps): KoaMiddleware {
  const { provider, accounts, clients } = deps;

  async function interactionFor(ctx: KoaContext, uid: string): Promise<Interaction> {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    // The interaction cookie, not the URL, decides which interaction is resumed; a mismatch
    // means an old tab or a copied link, which must not complete someone else's sign-in.
    if (interaction.uid !== uid) throw new StaleInteraction();
    return interaction;
  }

  function clientFor(interaction: Interaction): { id: string; name: string; standsInFor: string } {
    const id = interaction.params.client_id;
    if (typeof id !== "string") throw new StaleInteraction();
    const display = clients.get(id);
    return { id, name: display?.name ?? id, standsInFor: display?.standsInFor ?? "Okta" };
  }

  function renderLogin(
    ctx: KoaContext,
    interaction: Interaction,
    extra: { email?: string; error?: string },
  ): void {
    const client = clientFor(interaction);
    sendHtml(
      ctx,
      200,
      loginPage({ uid: interaction.uid, clientName: client.name, standsInFor: client.standsInFor, ...extra }),
    );
  }

  /**
   * These are first-party demo clients; in a real Okta tenant an administrator assigns the app
   * and users never see a consent screen, so grant exactly what was asked for without a click.
   */
  async function consentAutomatically(ctx: KoaContext, interaction: Interaction): Promise<void> {
    const accountId = interaction.session?.accountId;
    if (accountId === undefined) throw new StaleInteraction();
    const clientId = clientFor(interaction).id;
    const existing =
      interaction.grantId === undefined ? undefined : await provider.Grant.find(interaction.grantId);
    const grant = existing ?? new provider.Grant({ accountId, clientId });
    const { details } = interaction.prompt;
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(" "));
    }
    const grantId = await grant.save();
    seeOther(ctx, await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }));
  }

  async function show(ctx: KoaContext, uid: string): Promise<void> {
    const interaction = await interactionFor(ctx, uid);
    switch (interaction.prompt.name) {
      case "login": {
        // The email the client already knows (OIDC Core 3.1.2.1 login_hint), as Okta and Entra
        // ID prefill it: the person does not type it a second time.
        const hint = interaction.params.login_hint;
        return renderLogin(ctx, interaction, typeof hint === "string" ? { email: hint.slice(0, 320) } : {});
      }
      case "consent":
        return consentAutomatically(ctx, interaction);
      default:
        throw new Error(`dev-idp: unsupported interaction prompt ${interaction.prompt.name}`);
    }
  }

  async function login(ctx: KoaContext, uid: string): Promise<void> {
    const interaction = await interactionFor(ctx, uid);
    if (interaction.prompt.name !== "login") return seeOther(ctx, `/interaction/${encodeURIComponent(uid)}`);
    const form = await readForm(ctx.req);
    const email = (form.get("email") ?? "").trim();
    const account = accounts.authenticate(email, form.get("password") ?? "");
    if (account === undefined) {
      return renderLogin(ctx, interaction, { email, error: "Incorrect email or password." });
    }
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: account.accountId } },
      { mergeWithLastSubmission: false },
    );
    seeOther(ctx, returnTo);
  }

  async function abort(ctx: KoaContext, uid: string): Promise<void> {
    await interactionFor(ctx, uid);
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { error: "access_denied", error_description: "End-User aborted interaction" },
      { mergeWithLastSubmission: false },
    );
    seeOther(ctx, returnTo);
  }

  return async (ctx, next) => {
    const match = route.exec(ctx.path);
    const uid = match?.[1];
    if (match === null || uid === undefined) return next();
    const action = match[2];
    try {
      if (action === undefined && ctx.method === "GET") return await show(ctx, uid);
      if (action === "login" && ctx.method === "POST") return await login(ctx, uid);
      if (action === "abort" && ctx.method === "POST") return await abort(ctx, uid);
      ctx.set("Allow", action === undefined ? "GET" : "POST");
      sendHtml(
        ctx,
        405,
        messagePage("Method not allowed", "This page does not accept that kind of request."),
      );
    } catch (error) {
      if (error instanceof deps.SessionNotFound || error instanceof StaleInteraction) {
        sendHtml(
          ctx,
          400,
          messagePage(
            "Sign-in expired",
            "This sign-in attempt has expired or was started in another browser. Go back to the application and sign in again.",
          ),
        );
        return;
      }
      if (error instanceof BadForm) {
        sendHtml(ctx, 400, messagePage("Bad request", error.message));
        return;
      }
      throw error;
    }
  };
}
