// A SaaS application that signs people in through Gatehouse (its OpenID Provider):
// Fastify + openid-client. Run: GATEHOUSE_URL=... CLIENT_ID=... CLIENT_SECRET=... node server.js
import { randomBytes } from "node:crypto";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import Fastify from "fastify";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oidc from "openid-client";

const text = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// Every page of the sample: a readable column on a phone and a desktop, nothing more.
const style = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem}dt{font-weight:600}dd{margin:0 0 .5rem}a.button,button{display:inline-block;font:inherit;
padding:.5rem 1rem;border-radius:6px;border:1px solid #1f2328;background:#1f2328;color:#fff;text-decoration:none;
cursor:pointer;margin:.25rem .5rem .25rem 0}a.button.secondary{background:#fff;color:#1f2328}`;
const page = (body) =>
  `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme SaaS</title><style>${style}</style><body>${body}</body>`;

export async function startSaasApp({ gatehouseUrl, clientId, clientSecret, port = 3002 }) {
  const base = `http://localhost:${port}`;
  const issuer = new URL(gatehouseUrl);
  const config = await oidc.discovery(issuer, clientId, clientSecret, undefined, {
    execute: issuer.protocol === "http:" ? [oidc.allowInsecureRequests] : [],
  });
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  const sessions = new Map(); // session id -> { claims, idToken }
  const app = Fastify();
  await app.register(fastifyCookie, { secret: randomBytes(32).toString("hex") });
  await app.register(fastifyFormbody);
  const cookie = { path: "/", httpOnly: true, sameSite: "lax", signed: true };
  const sessionOf = (request) => {
    const raw = request.cookies.saas_session;
    const id = raw && request.unsignCookie(raw);
    return id?.valid ? sessions.get(id.value) : undefined;
  };

  app.get("/", async (request, reply) => {
    const s = sessionOf(request);
    reply.type("text/html");
    if (!s)
      return page(
        `<h1>Acme SaaS</h1><p>You are signed out.</p><a href="/login" id="sign-in" class="button">Sign in</a>`,
      );
    const c = s.claims;
    return page(`<h1>Hello, ${text(c.name ?? c.email)}</h1>
<dl id="user"><dt>Email</dt><dd id="email">${text(c.email)}</dd><dt>Organization</dt><dd id="org">${text(c.org_slug)}</dd>
<dt>Role</dt><dd>${text(c.org_role)}</dd><dt>Signed in with</dt><dd>${text(c.auth_method)}</dd></dl>
<form method="post" action="/logout"><button id="sign-out">Sign out</button></form>`);
  });

  // ?another=1: prompt=login, so that Gatehouse asks who is signing in instead of answering
  // with the session it has (OIDC Core 3.1.2.1).
  app.get("/login", async (request, reply) => {
    const flow = {
      verifier: oidc.randomPKCECodeVerifier(),
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
    };
    reply.setCookie("saas_flow", JSON.stringify(flow), { ...cookie, maxAge: 600 });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${base}/callback`,
      scope: "openid email profile",
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: "S256",
      state: flow.state,
      nonce: flow.nonce,
      ...(request.query.another === "1" ? { prompt: "login" } : {}),
    });
    return reply.redirect(url.href);
  });

  app.get("/callback", async (request, reply) => {
    const raw = request.cookies.saas_flow && request.unsignCookie(request.cookies.saas_flow);
    if (!raw?.valid) return reply.code(400).send("Sign-in expired; start again.");
    const flow = JSON.parse(raw.value);
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, new URL(request.url, base), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
    } catch (error) {
      // An error response at the redirect_uri (its state and iss checked): the person went back
      // from Gatehouse (error=access_denied) or Gatehouse could not sign them in.
      if (!(error instanceof oidc.AuthorizationResponseError)) throw error;
      reply.clearCookie("saas_flow", cookie);
      const cancelled = error.error === "access_denied";
      return reply.type("text/html").send(
        page(`<h1>${cancelled ? "Sign-in was cancelled" : "Sign-in failed"}</h1>
<p id="sign-in-error">${text(error.error_description ?? error.error)}</p>
<a href="/login" id="try-again" class="button">Try again</a>`),
      );
    }
    const claims = tokens.claims();
    reply.clearCookie("saas_flow", cookie);
    // Someone who signed in with LinkedIn and belongs to no organization has no org_* claims.
    // This application is for organizations' members: say so, and offer to sign in as someone
    // else or to sign out of Gatehouse.
    if (!claims.org_id) {
      const signOut = oidc.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: `${base}/`,
      });
      return reply
        .code(403)
        .type("text/html")
        .send(
          page(`<h1>No organization</h1><p id="no-organization">${text(claims.email)} is not a member of any
organization on Acme SaaS. Ask your company's administrator for an invitation, then sign in again.</p>
<a href="/login?another=1" id="sign-in-another" class="button">Sign in with another account</a>
<a href="${text(signOut.href)}" id="sign-out-gatehouse" class="button secondary">Sign out of Gatehouse</a>`),
        );
    }
    const id = randomBytes(32).toString("base64url");
    sessions.set(id, { claims, idToken: tokens.id_token });
    reply.setCookie("saas_session", id, cookie);
    return reply.redirect("/");
  });

  app.post("/logout", async (request, reply) => {
    const s = sessionOf(request);
    reply.clearCookie("saas_session", cookie);
    if (!s) return reply.redirect("/");
    for (const [id, other] of sessions) if (other === s) sessions.delete(id);
    const url = oidc.buildEndSessionUrl(config, {
      id_token_hint: s.idToken,
      post_logout_redirect_uri: `${base}/`,
    });
    return reply.redirect(url.href);
  });

  // Back-Channel Logout 1.0: Gatehouse says a session ended; end ours for that sid.
  app.post("/backchannel-logout", async (request, reply) => {
    try {
      const { payload } = await jwtVerify(String(request.body?.logout_token), jwks, {
        issuer: config.serverMetadata().issuer,
        audience: clientId,
        typ: "logout+jwt",
      });
      if (!payload.events?.["http://schemas.openid.net/event/backchannel-logout"] || "nonce" in payload)
        throw 0;
      for (const [id, s] of sessions) if (s.claims.sid === payload.sid) sessions.delete(id);
      return reply.code(200).send();
    } catch {
      return reply.code(400).send();
    }
  });

  await app.listen({ port, host: "127.0.0.1" });
  return { url: base, close: () => app.close() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { GATEHOUSE_URL, CLIENT_ID, CLIENT_SECRET, PORT } = process.env;
  const running = await startSaasApp({
    gatehouseUrl: GATEHOUSE_URL ?? "http://localhost:3000",
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    port: Number(PORT ?? 3002),
  });
  console.log(`Acme SaaS on ${running.url}`);
}
