import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Worker } from "node:worker_threads";
import * as jose from "jose";

/**
 * A fast OpenID Provider for the benchmark: discovery, JWKS, an /authorize with no UI (the user
 * is the `login_hint`, the answer a 302 straight back with code, state and iss) and a /token
 * with client_secret_basic and PKCE S256, whose RS256 ID tokens are signed on a pool of worker
 * threads so that signing is not capped at one core. Listens on 127.0.0.1 only, port 0, and
 * prints `{"ready":true,"port":...,"issuer":...}` when it can be used. Clients are registered
 * over `POST /_bench/clients`; the benchmark reads this process's CPU from /proc. The soak makes
 * the token endpoint misbehave over `POST /_bench/faults` (see `TokenFault`).
 */

const SIGNERS = 2;
const CODE_TTL_MS = 60_000;
const MAX_OPEN_CODES = 200_000;
const MAX_BODY_BYTES = 16 * 1024;

interface Client {
  secret: string;
  redirectUris: Set<string>;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  email: string;
  expiresAt: number;
}

const clients = new Map<string, Client>();
const grants = new Map<string, Grant>();

/**
 * How the token endpoint behaves: normally, late (each answer held `delayMs` before it is
 * worked out, as an overloaded provider would), or failing with HTTP 500 — alternately a JSON
 * `server_error` and a bare text page, as providers and their proxies send them.
 */
type TokenFault = { mode: "ok" } | { mode: "slow"; delayMs: number } | { mode: "fail" };
let tokenFault: TokenFault = { mode: "ok" };
let failures = 0;
const MAX_DELAY_MS = 30_000;

const { publicKey, privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const kid = "fast-op-1";
const privateJwk = await jose.exportJWK(privateKey);
const jwks = JSON.stringify({
  keys: [{ ...(await jose.exportJWK(publicKey)), kid, alg: "RS256", use: "sig" }],
});

// Workers load TypeScript through tsx's API: a worker does not inherit the parent's --import.
const tsxApi = import.meta.resolve("tsx/esm/api");
const signerUrl = new URL("./fast-op-signer.ts", import.meta.url).href;
const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(signerUrl)}); });`;

interface Signer {
  worker: Worker;
  pending: number;
}
const waiting = new Map<number, { resolve: (jwt: string) => void; reject: (error: Error) => void }>();
let nextJob = 0;
const signers: Signer[] = await Promise.all(
  Array.from(
    { length: SIGNERS },
    () =>
      new Promise<Signer>((resolve, reject) => {
        const worker = new Worker(bootstrap, { eval: true, workerData: { privateJwk, kid } });
        const signer: Signer = { worker, pending: 0 };
        worker.on("error", reject);
        worker.on("message", (message: { ready?: boolean; id?: number; jwt?: string; error?: string }) => {
          if (message.ready) return resolve(signer);
          if (message.id === undefined) return;
          signer.pending--;
          const job = waiting.get(message.id);
          waiting.delete(message.id);
          if (message.jwt) job?.resolve(message.jwt);
          else job?.reject(new Error(message.error ?? "signing failed"));
        });
      }),
  ),
);

function sign(claims: jose.JWTPayload): Promise<string> {
  let signer = signers[0]!;
  for (const candidate of signers) if (candidate.pending < signer.pending) signer = candidate;
  signer.pending++;
  const id = nextJob++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    signer.worker.postMessage({ id, claims });
  });
}

function base64url(buffer: Buffer): string {
  return buffer.toString("base64url");
}

function subjectOf(email: string): string {
  return base64url(createHash("sha256").update(email).digest()).slice(0, 24);
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = "application/json",
  cacheControl = "no-store",
): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": cacheControl,
  });
  res.end(body);
}

// As real providers publish them: relying parties may keep these for an hour.
const PUBLIC_HOUR = "public, max-age=3600";

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, "content-length": 0, "cache-control": "no-store" });
  res.end();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** RFC 6749 2.3.1: the id and secret are form-urlencoded before they are joined and base64-encoded. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

function tokenError(res: ServerResponse, status: number, error: string, description: string): void {
  send(res, status, JSON.stringify({ error, error_description: description }));
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? "/", issuer);
    switch (`${req.method} ${url.pathname}`) {
      case `GET ${base}/.well-known/openid-configuration`:
        return send(res, 200, discovery, "application/json", PUBLIC_HOUR);
      case `GET ${base}/jwks`:
        return send(res, 200, jwks, "application/jwk-set+json", PUBLIC_HOUR);
      case `GET ${base}/authorize`:
        return authorize(url, res);
      case `POST ${base}/token`:
        return await token(req, res);
      case "POST /_bench/clients": {
        const body = JSON.parse(await readBody(req)) as {
          clientId: string;
          clientSecret: string;
          redirectUris: string[];
        };
        clients.set(body.clientId, { secret: body.clientSecret, redirectUris: new Set(body.redirectUris) });
        return send(res, 204, "");
      }
      case "POST /_bench/faults": {
        const body = JSON.parse(await readBody(req)) as { token?: unknown; delayMs?: unknown };
        const delayMs = Number(body.delayMs ?? 0);
        if (body.token === "ok") tokenFault = { mode: "ok" };
        else if (body.token === "fail") tokenFault = { mode: "fail" };
        else if (body.token === "slow" && Number.isInteger(delayMs) && delayMs > 0 && delayMs <= MAX_DELAY_MS)
          tokenFault = { mode: "slow", delayMs };
        else return send(res, 400, JSON.stringify({ error: "token must be ok, fail or slow with delayMs" }));
        return send(res, 204, "");
      }
      case "GET /_bench/stats":
        return send(res, 200, JSON.stringify({ openCodes: grants.size, cpu: process.cpuUsage() }));
      default:
        return send(res, 404, JSON.stringify({ error: "not_found" }));
    }
  } catch (error) {
    if (!res.headersSent)
      send(res, 500, JSON.stringify({ error: "server_error", error_description: String(error) }));
  }
});

function authorize(url: URL, res: ServerResponse) {
  const q = url.searchParams;
  const clientId = q.get("client_id") ?? "";
  const redirectUri = q.get("redirect_uri") ?? "";
  const client = clients.get(clientId);
  // OAuth 2.0 4.1.2.1: an unknown client or redirect URI is never redirected to.
  if (!client?.redirectUris.has(redirectUri)) {
    return send(res, 400, "unknown client_id or redirect_uri", "text/plain");
  }
  const back = new URL(redirectUri);
  const fail = (error: string) => {
    back.searchParams.set("error", error);
    const state = q.get("state");
    if (state) back.searchParams.set("state", state);
    back.searchParams.set("iss", issuer);
    redirect(res, back.toString());
  };
  if (q.get("response_type") !== "code") return fail("unsupported_response_type");
  if (!(q.get("scope") ?? "").split(" ").includes("openid")) return fail("invalid_scope");
  const codeChallenge = q.get("code_challenge");
  if (!codeChallenge || q.get("code_challenge_method") !== "S256") return fail("invalid_request");
  const email = q.get("login_hint");
  // No UI: the login hint is the user; without one there is nobody to sign in.
  if (!email) return fail("login_required");
  if (grants.size >= MAX_OPEN_CODES) return fail("temporarily_unavailable");
  const code = base64url(randomBytes(24));
  grants.set(code, {
    clientId,
    redirectUri,
    codeChallenge,
    nonce: q.get("nonce") ?? undefined,
    email: email.toLowerCase(),
    expiresAt: Date.now() + CODE_TTL_MS,
  });
  back.searchParams.set("code", code);
  const state = q.get("state");
  if (state) back.searchParams.set("state", state);
  back.searchParams.set("iss", issuer);
  redirect(res, back.toString());
}

async function token(req: IncomingMessage, res: ServerResponse) {
  const credentials = basicCredentials(req.headers.authorization);
  const client = credentials && clients.get(credentials.id);
  if (!credentials || !client || client.secret !== credentials.secret) {
    res.setHeader("www-authenticate", 'Basic realm="fast-op"');
    return tokenError(res, 401, "invalid_client", "client authentication failed");
  }
  const form = new URLSearchParams(await readBody(req));
  const fault = tokenFault;
  if (fault.mode === "slow") {
    await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    // The relying party gave up waiting: its code stays unused, as at a real provider.
    if (req.socket.destroyed) return;
  }
  if (fault.mode === "fail") {
    if (failures++ % 2 === 0)
      return tokenError(res, 500, "server_error", "the token service is failing (soak fault)");
    return send(res, 500, "Internal Server Error", "text/plain");
  }
  if (form.get("grant_type") !== "authorization_code") {
    return tokenError(res, 400, "unsupported_grant_type", "only authorization_code");
  }
  const code = form.get("code") ?? "";
  const grant = grants.get(code);
  grants.delete(code);
  if (!grant || grant.expiresAt < Date.now() || grant.clientId !== credentials.id) {
    return tokenError(res, 400, "invalid_grant", "unknown, used or expired code");
  }
  if (form.get("redirect_uri") !== grant.redirectUri) {
    return tokenError(res, 400, "invalid_grant", "redirect_uri differs");
  }
  const verifier = form.get("code_verifier") ?? "";
  if (base64url(createHash("sha256").update(verifier).digest()) !== grant.codeChallenge) {
    return tokenError(res, 400, "invalid_grant", "PKCE verification failed");
  }
  const now = Math.floor(Date.now() / 1000);
  const local = grant.email.split("@")[0] ?? grant.email;
  const idToken = await sign({
    iss: issuer,
    aud: grant.clientId,
    sub: subjectOf(grant.email),
    email: grant.email,
    email_verified: true,
    name: `Bench ${local}`,
    ...(grant.nonce ? { nonce: grant.nonce } : {}),
    iat: now,
    exp: now + 300,
  });
  send(
    res,
    200,
    JSON.stringify({
      access_token: base64url(randomBytes(24)),
      token_type: "Bearer",
      expires_in: 300,
      scope: "openid email profile",
      id_token: idToken,
    }),
  );
}

// Codes the benchmark abandoned (a stopped phase) must not pile up.
setInterval(() => {
  const now = Date.now();
  for (const [code, grant] of grants) if (grant.expiresAt < now) grants.delete(code);
}, 5_000).unref();

const base = "/op";
let issuer = "";
let discovery = "";
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  issuer = `http://127.0.0.1:${port}${base}`;
  discovery = JSON.stringify({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
    token_endpoint_auth_methods_supported: ["client_secret_basic"],
    code_challenge_methods_supported: ["S256"],
    scopes_supported: ["openid", "email", "profile"],
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"],
    authorization_response_iss_parameter_supported: true,
  });
  process.stdout.write(`${JSON.stringify({ ready: true, port, issuer })}\n`);
});

const shutdown = () => {
  server.close();
  server.closeAllConnections();
  for (const signer of signers) void signer.worker.terminate();
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
