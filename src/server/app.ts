import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyCsrf from "@fastify/csrf-protection";
import fastifyFormbody from "@fastify/formbody";
import fastifyStatic from "@fastify/static";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
  type RouteOptions,
} from "fastify";
import { registerAdminRoutes } from "../admin/routes.js";
import { registerApiRoutes } from "../api/routes.js";
import { fastifyTrustProxy } from "../config.js";
import { GatehouseError } from "../errors.js";
import { registerHomeRoutes } from "../home/routes.js";
import { registerInvitationRoutes } from "../invitations/routes.js";
import { registerLoginRoutes } from "../login/routes.js";
import { registerOpenIdProvider } from "../provider/routes.js";
import { cookieOptions } from "../session/cookie.js";
import { csrfBinding, csrfCookieName, csrfTokenReader } from "../session/csrf.js";
import { registerSsoRoutes } from "../sso/routes.js";
import { registerSamlRoutes } from "../sso/saml/routes.js";
import { refuseUnstorableInput } from "../web/input-guard.js";
import type { AppContext } from "./context.js";
import { sendError, toGatehouseError } from "./error-response.js";
import { registerHealthRoutes } from "./health.js";
import { lazyRequestLogger } from "./log.js";
import { registerRequestLog } from "./request-log.js";
import { apiSecurityHeaders, securityHeaders } from "./security-headers.js";

const publicDir = fileURLToPath(new URL("../../public/", import.meta.url));

export interface BuildOptions {
  /** Told of every route as it is registered (the fuzz test covers each one this way). */
  onRoute?: (route: RouteOptions) => void;
  /** Registers more routes after Gatehouse's own (tests of a protocol adapter's endpoints). */
  routes?: (app: FastifyInstance) => void;
}

export async function buildApp(ctx: AppContext, options: BuildOptions = {}): Promise<FastifyInstance> {
  const headers = securityHeaders(ctx.config);
  const apiHeaders = apiSecurityHeaders(headers);
  // The raw URL starts with its path, so the prefix is the path's.
  const headersFor = (url: string) => (url.startsWith("/api/") ? apiHeaders : headers);
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    trustProxy: fastifyTrustProxy(ctx.config),
    requestIdHeader: false,
    // One line per request, written by registerRequestLog, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    routerOptions: { maxParamLength: 200 },
    // Errors the router raises before any hook runs (a path parameter over 200 characters, a
    // malformed URL) get the same answer as every other error, with the same headers.
    frameworkErrors: (error, request, reply) => {
      reply.headers(headersFor(request.url));
      return sendError(ctx, request, reply, toGatehouseError(error));
    },
  });

  // Per-request state, declared up front so that every request object has one shape.
  app.decorateRequest("sessionCheck", null);
  app.decorateRequest("apiCaller", null);
  if (options.onRoute) {
    const onRoute = options.onRoute;
    app.addHook("onRoute", (route) => onRoute(route));
  }
  registerRequestLog(app, ctx.log, ctx.metrics);
  // Each CSRF token names the session it was issued to (src/session/csrf.ts): the plugin's
  // generateCsrf, given the binding. One function for every reply, not a closure per request.
  let generateCsrf: FastifyReply["generateCsrf"] | undefined;
  function generateBoundCsrf(this: FastifyReply, options?: Parameters<FastifyReply["generateCsrf"]>[0]) {
    if (!generateCsrf) throw new Error("generateCsrf called before @fastify/csrf-protection was registered");
    return generateCsrf.call(this, { ...options, userInfo: csrfBinding(ctx.config, this.request) });
  }
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(headersFor(request.url));
    generateCsrf ??= reply.generateCsrf;
    reply.generateCsrf = generateBoundCsrf;
    done();
  });
  // The first secret signs; every one verifies, so cookies from before a key rotation stay valid.
  await app.register(fastifyCookie, {
    secret: [ctx.cookieSecret, ...ctx.previousCookieSecrets].map((k) => k.toString("base64url")),
  });
  await app.register(fastifyFormbody);
  await app.register(fastifyCsrf, {
    cookieKey: csrfCookieName(ctx.config),
    cookieOpts: { ...cookieOptions(ctx.config), signed: true },
    // Each token names the session it was issued to (src/session/csrf.ts).
    csrfOpts: { hmacKey: ctx.cookieSecret },
    getUserInfo: (request) => csrfBinding(ctx.config, request),
    getToken: csrfTokenReader(ctx.config, {
      current: ctx.cookieSecret,
      previous: ctx.previousCookieSecrets,
    }),
  });
  // Every input boundary at once: query, path and body are parsed by now, and nothing has
  // looked anything up or written anything yet.
  app.addHook("preValidation", (request, _reply, done) => {
    refuseUnstorableInput(request);
    done();
  });
  await app.register(fastifyStatic, { root: publicDir, prefix: "/assets/", index: false, maxAge: "1h" });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(ctx, request, reply, new GatehouseError("NOT_FOUND", "Not found")),
  );
  app.setErrorHandler(async (error: FastifyError, request, reply) =>
    sendError(ctx, request, reply, toGatehouseError(error)),
  );

  // Browsers ask every site for /favicon.ico; "no icon" keeps a 404 out of their consoles.
  app.get("/favicon.ico", async (_request, reply) =>
    reply.status(204).header("cache-control", "public, max-age=86400").send(),
  );
  registerHealthRoutes(app, ctx);
  registerHomeRoutes(app, ctx);
  registerLoginRoutes(app, ctx);
  registerSsoRoutes(app, ctx);
  registerSamlRoutes(app, ctx);
  registerInvitationRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerApiRoutes(app, ctx);
  await registerOpenIdProvider(app, ctx);
  options.routes?.(app);
  return app;
}
