import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Provider } from "oidc-provider";
import type { AppContext } from "../server/context.js";
import { INTERACTION_PATH, PROVIDER_PREFIX } from "./configuration.js";
import { abortInteraction, handleInteraction } from "./interaction.js";
import { continueApplicationLogout, LOGOUT_CONTINUE_PATH } from "./logout.js";
import { OpenIdProvider } from "./provider.js";

const running = new WeakMap<AppContext, OpenIdProvider>();

/** The OpenID Provider an app built on this context runs. */
export function openIdProviderOf(ctx: AppContext): OpenIdProvider | undefined {
  return running.get(ctx);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const handlers = new WeakMap<Provider, Handler>();

function handlerOf(provider: Provider): Handler {
  let handler = handlers.get(provider);
  if (!handler) {
    handler = provider.callback();
    handlers.set(provider, handler);
  }
  return handler;
}

/**
 * Mounts Gatehouse's OpenID Provider: discovery at /.well-known/openid-configuration, the
 * protocol endpoints under /oidc, the interaction (Gatehouse's own sign-in) at
 * /oidc/interaction/:uid. Returns the provider for the parts that sign outside a request
 * (back-channel logout).
 */
export async function registerOpenIdProvider(app: FastifyInstance, ctx: AppContext): Promise<OpenIdProvider> {
  const op = await OpenIdProvider.start(ctx);
  running.set(ctx, op);
  app.addHook("onClose", async () => {
    op.close();
    running.delete(ctx);
  });
  const base = ctx.config.baseUrl;

  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const raw = request.raw;
    // Every URL the provider prints (issuer, endpoints, redirects) derives from GATEHOUSE_BASE_URL,
    // whatever Host the request came with.
    raw.headers["x-forwarded-host"] = base.host;
    raw.headers["x-forwarded-proto"] = base.protocol.slice(0, -1);
    raw.headers["x-forwarded-for"] = request.ip;
    handlerOf(op.provider)(raw, reply.raw);
  };

  await app.register(async (scope) => {
    // oidc-provider reads request bodies itself (and refuses pre-parsed ones).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.all("/.well-known/openid-configuration", handOver);
    scope.all(`${PROVIDER_PREFIX}/*`, handOver);
  });

  app.get(LOGOUT_CONTINUE_PATH, async (request, reply) => continueApplicationLogout(ctx, request, reply));
  op.startDelivery();

  app.get<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid`, async (request, reply) =>
    handleInteraction(ctx, op.provider, request, reply),
  );
  app.post<{ Params: { uid: string } }>(
    `${INTERACTION_PATH}/:uid/abort`,
    { preHandler: app.csrfProtection },
    async (request, reply) => abortInteraction(op.provider, request, reply),
  );
  return op;
}
