import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as jose from "jose";

/**
 * A small OpenID Provider that can misbehave on purpose: discovery, JWKS, an authorization
 * endpoint without UI, a token endpoint (client_secret_basic and client_secret_post, PKCE S256)
 * and userinfo, on loopback. Honest by default; `set()` installs a scenario that breaks one rule.
 * Built on node:http and jose rather than oidc-provider, which would refuse to misbehave.
 */

export type SigningAlg = "RS256" | "PS256" | "ES256" | "EdDSA";
export const SIGNING_ALGS: readonly SigningAlg[] = ["RS256", "PS256", "ES256", "EdDSA"];

/** Attacker-controlled text planted in claims and error descriptions; pages must escape it. */
export const MARKER = `<script>alert("hostile")</script>`;

export type TokenAnswer =
  | "honest"
  | "no-id-token"
  | "invalid-grant"
  | "server-error"
  | "html"
  | "huge"
  | "huge-declared"
  | "redirect";

export interface Scenario {
  /** The algorithm, so the key, the ID token is signed with. Default RS256. */
  alg?: SigningAlg;
  /** The ID token header's kid: a string replaces the key's, null leaves it out. */
  kid?: string | null;
  /** A dishonest signature: flipped bytes, `alg: none`, or HS256 keyed with the client secret. */
  signature?: "corrupt" | "none" | "hs256-client-secret";
  /** ID token claims to set; a key set to undefined is left out. Applied last. */
  claims?: Record<string, unknown>;
  /** The provider's clock against the real one, in seconds, for iat and exp. */
  clockOffsetSeconds?: number;
  /** exp - iat. Default 300. */
  idTokenLifetimeSeconds?: number;
  /** false: the ID token carries `sub` and the protocol claims only, the profile is in userinfo. */
  profileInIdToken?: boolean;

  /** The authorization endpoint answers with this error instead of a code. */
  authorizeError?: { error: string; error_description?: string };
  /** The `state` sent back: "omit", or a value other than the one received. */
  state?: "omit" | string;
  /** The RFC 9207 `iss` parameter: "omit", or a value other than the issuer. */
  issParameter?: "omit" | string;

  /** A code may be redeemed more than once. */
  allowCodeReuse?: boolean;
  /** The code_verifier is not checked against the code_challenge. */
  ignorePkce?: boolean;
  tokenAnswer?: TokenAnswer;
  /** The token endpoint waits this long before answering. */
  tokenDelayMs?: number;

  /** Userinfo claims to set; a key set to undefined is left out. */
  userinfo?: Record<string, unknown>;

  /** Discovery document members to set; a key set to undefined is left out. */
  metadata?: Record<string, unknown>;
  /** "503": the JWKS endpoint answers 503; "reset": it drops the connection. */
  jwksDown?: "503" | "reset";
}

export interface SigningKey {
  alg: SigningAlg;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: jose.JWK;
}

export interface TokenRequestRecord {
  authMethod: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
  code: string;
}

export interface ProviderUser {
  sub: string;
  email: string;
  name: string;
  email_verified: boolean;
}

interface IssuedCode {
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  redeemed: number;
}

export async function generateSigningKey(alg: SigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } =
    alg === "EdDSA"
      ? await jose.generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true })
      : await jose.generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomBytes(6).toString("hex")}`;
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicJwk };
}

// Key generation is the slow part of starting a provider; every provider in a process shares
// the first key of each algorithm, and tests that need fresh keys generate them.
const sharedKeys = new Map<SigningAlg, Promise<SigningKey>>();
function sharedKey(alg: SigningAlg): Promise<SigningKey> {
  let key = sharedKeys.get(alg);
  if (!key) {
    key = generateSigningKey(alg);
    sharedKeys.set(alg, key);
  }
  return key;
}

export interface StartOptions {
  /** The one redirect URI the client registered. */
  redirectUri: string;
  clientId?: string;
  clientSecret?: string;
  user?: Partial<ProviderUser>;
  /** A path under which the provider serves, as Entra ID's `/common/v2.0`; none by default. */
  issuerPath?: string;
}

export class HostileProvider {
  readonly issuer: string;
  readonly clientId: string;
  /** Changed by a test, it is a secret regenerated at the provider: the connection's no longer works. */
  clientSecret: string;
  readonly redirectUri: string;
  user: ProviderUser;
  scenario: Scenario = {};
  /** Where the client publishes its keys, for `private_key_jwt` (RFC 7523): like a real IdP, fetched per use. */
  clientJwksUrl: string | undefined;
  /** The keys the JWKS publishes; the ID token is signed with the first one of the scenario's alg. */
  keys: SigningKey[];
  /** How many times each endpoint was called. */
  readonly calls = { discovery: 0, jwks: 0, authorize: 0, token: 0, userinfo: 0 };
  readonly tokenRequests: TokenRequestRecord[] = [];

  private readonly codes = new Map<string, IssuedCode>();
  private readonly accessTokens = new Map<string, true>();

  constructor(
    private readonly server: Server,
    issuer: string,
    options: StartOptions,
    keys: SigningKey[],
  ) {
    this.issuer = issuer;
    this.clientId = options.clientId ?? "gatehouse-hostile";
    this.clientSecret = options.clientSecret ?? "hostile-client-secret-0123456789abcdef";
    this.redirectUri = options.redirectUri;
    this.user = {
      sub: "alice-0001",
      email: "alice@acme.test",
      name: `Alice ${MARKER}`,
      email_verified: true,
      ...options.user,
    };
    this.keys = keys;
  }

  /** Installs a scenario for what follows, replacing the previous one. */
  set(scenario: Scenario): void {
    this.scenario = scenario;
  }

  /** Replaces the published keys of `alg` with a freshly generated one, which then signs. */
  async rotateKey(alg: SigningAlg = "RS256"): Promise<SigningKey> {
    const fresh = await generateSigningKey(alg);
    this.keys = [fresh, ...this.keys.filter((k) => k.alg !== alg)];
    return fresh;
  }

  metadata(): Record<string, unknown> {
    const algs: string[] = [...SIGNING_ALGS];
    // A hostile provider advertises whatever it signs with, so that only Gatehouse's own key
    // policy stands between the token and a session.
    if (this.scenario.signature === "none") algs.push("none");
    if (this.scenario.signature === "hs256-client-secret") algs.push("HS256");
    return withOverrides(
      {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        userinfo_endpoint: `${this.issuer}/userinfo`,
        jwks_uri: `${this.issuer}/jwks`,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: algs,
        token_endpoint_auth_methods_supported: [
          "client_secret_basic",
          "client_secret_post",
          "private_key_jwt",
        ],
        token_endpoint_auth_signing_alg_values_supported: ["RS256", "ES256"],
        code_challenge_methods_supported: ["S256"],
        scopes_supported: ["openid", "email", "profile"],
        claims_supported: ["sub", "email", "email_verified", "name"],
        authorization_response_iss_parameter_supported: true,
      },
      this.scenario.metadata,
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** @internal */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.issuer);
    const path = url.pathname.startsWith(new URL(this.issuer).pathname)
      ? url.pathname.slice(new URL(this.issuer).pathname.replace(/\/$/, "").length)
      : url.pathname;
    switch (`${req.method} ${path}`) {
      case "GET /.well-known/openid-configuration":
        this.calls.discovery++;
        return json(res, 200, this.metadata());
      case "GET /jwks":
        return this.jwks(req, res);
      case "GET /authorize":
        this.calls.authorize++;
        return this.authorize(url, res);
      case "POST /token":
        this.calls.token++;
        return this.token(req, res);
      case "GET /userinfo":
        this.calls.userinfo++;
        return this.userinfo(req, res);
      default:
        return json(res, 404, { error: "not_found" });
    }
  }

  private jwks(req: IncomingMessage, res: ServerResponse): void {
    this.calls.jwks++;
    if (this.scenario.jwksDown === "reset") {
      req.socket.destroy();
      return;
    }
    if (this.scenario.jwksDown === "503") {
      res.writeHead(503, { "content-type": "text/plain" }).end("down for maintenance");
      return;
    }
    json(res, 200, { keys: this.keys.map((k) => k.publicJwk) });
  }

  private authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const redirectUri = q.get("redirect_uri");
    if (q.get("client_id") !== this.clientId || redirectUri !== this.redirectUri) {
      json(res, 400, {
        error: "invalid_request",
        error_description: "unknown client or redirect_uri",
      });
      return;
    }
    const back = new URL(redirectUri);
    const s = this.scenario;
    if (s.authorizeError) {
      back.searchParams.set("error", s.authorizeError.error);
      if (s.authorizeError.error_description)
        back.searchParams.set("error_description", s.authorizeError.error_description);
    } else {
      if (q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256") {
        json(res, 400, { error: "invalid_request", error_description: "code flow with S256 only" });
        return;
      }
      const code = randomBytes(16).toString("base64url");
      this.codes.set(code, {
        redirectUri,
        codeChallenge: q.get("code_challenge") ?? "",
        nonce: q.get("nonce") ?? undefined,
        redeemed: 0,
      });
      back.searchParams.set("code", code);
    }
    const state = s.state === undefined ? q.get("state") : s.state === "omit" ? null : s.state;
    if (state !== null) back.searchParams.set("state", state);
    const iss =
      s.issParameter === undefined ? this.issuer : s.issParameter === "omit" ? null : s.issParameter;
    if (iss !== null) back.searchParams.set("iss", iss);
    res.writeHead(302, { location: back.toString() }).end();
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = new URLSearchParams(await readBody(req));
    const s = this.scenario;
    const authMethod = await this.authenticateClient(req, body);
    if (!authMethod) {
      res.setHeader("www-authenticate", 'Basic realm="token"');
      return json(res, 401, { error: "invalid_client" });
    }
    const code = body.get("code") ?? "";
    this.tokenRequests.push({ authMethod, code });
    const issued = this.codes.get(code);
    if (
      body.get("grant_type") !== "authorization_code" ||
      !issued ||
      (issued.redeemed > 0 && !s.allowCodeReuse) ||
      body.get("redirect_uri") !== issued.redirectUri ||
      (!s.ignorePkce && pkceChallenge(body.get("code_verifier") ?? "") !== issued.codeChallenge)
    ) {
      return json(res, 400, { error: "invalid_grant", error_description: "code, redirect_uri or verifier" });
    }
    issued.redeemed++;
    if (s.tokenDelayMs) await sleepUnlessClosed(res, s.tokenDelayMs);
    if (res.destroyed) return;

    switch (s.tokenAnswer ?? "honest") {
      case "invalid-grant":
        return json(res, 400, { error: "invalid_grant", error_description: `expired ${MARKER}` });
      case "server-error":
        res.writeHead(500, { "content-type": "text/plain" }).end(`Internal Server Error ${MARKER}`);
        return;
      case "html":
        res
          .writeHead(200, { "content-type": "text/html" })
          .end(`<!doctype html><html><body>Welcome ${MARKER}</body></html>`);
        return;
      case "huge":
        return streamHuge(res, false);
      case "huge-declared":
        return streamHuge(res, true);
      case "redirect":
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
        return;
      default:
        break;
    }
    const accessToken = randomBytes(24).toString("base64url");
    this.accessTokens.set(accessToken, true);
    const answer: Record<string, unknown> = {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: 300,
      scope: "openid email profile",
    };
    if (s.tokenAnswer !== "no-id-token") answer.id_token = await this.idToken(issued.nonce, accessToken);
    json(res, 200, answer);
  }

  /** RFC 7523 section 3: iss and sub are the client id, aud names this provider, signed with a published key. */
  private async verifyClientAssertion(assertion: string): Promise<boolean> {
    if (!this.clientJwksUrl) return false;
    try {
      const { payload } = await jose.jwtVerify(
        assertion,
        jose.createRemoteJWKSet(new URL(this.clientJwksUrl)),
        {
          issuer: this.clientId,
          subject: this.clientId,
          audience: [this.issuer, `${this.issuer}/token`],
          maxTokenAge: 300,
        },
      );
      return typeof payload.jti === "string";
    } catch {
      return false;
    }
  }

  private async authenticateClient(
    req: IncomingMessage,
    body: URLSearchParams,
  ): Promise<TokenRequestRecord["authMethod"] | undefined> {
    const allowed = this.metadata().token_endpoint_auth_methods_supported;
    const may = (m: string) => !Array.isArray(allowed) || allowed.includes(m);
    const assertion = body.get("client_assertion");
    if (
      body.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
      assertion
    ) {
      return may("private_key_jwt") && (await this.verifyClientAssertion(assertion))
        ? "private_key_jwt"
        : undefined;
    }
    const header = req.headers.authorization;
    if (header?.startsWith("Basic ")) {
      const decoded = Buffer.from(header.slice(6), "base64").toString();
      const colon = decoded.indexOf(":");
      const id = formDecode(decoded.slice(0, colon));
      const secret = formDecode(decoded.slice(colon + 1));
      return may("client_secret_basic") && id === this.clientId && secret === this.clientSecret
        ? "client_secret_basic"
        : undefined;
    }
    return may("client_secret_post") &&
      body.get("client_id") === this.clientId &&
      body.get("client_secret") === this.clientSecret
      ? "client_secret_post"
      : undefined;
  }

  /** The ID token for a code, honest unless the scenario says otherwise. */
  async idToken(nonce: string | undefined, accessToken: string): Promise<string> {
    const s = this.scenario;
    const alg = s.alg ?? "RS256";
    const key = this.keys.find((k) => k.alg === alg) ?? (await sharedKey(alg));
    const iat = Math.floor(Date.now() / 1000) + (s.clockOffsetSeconds ?? 0);
    const profile: Record<string, unknown> =
      s.profileInIdToken === false
        ? {}
        : { email: this.user.email, email_verified: this.user.email_verified, name: this.user.name };
    const claims = withOverrides(
      {
        iss: this.issuer,
        sub: this.user.sub,
        aud: this.clientId,
        iat,
        exp: iat + (s.idTokenLifetimeSeconds ?? 300),
        auth_time: iat,
        nonce,
        at_hash: accessTokenHash(accessToken, alg),
        ...profile,
      },
      s.claims,
    );
    const header: jose.JWTHeaderParameters = { alg, typ: "JWT" };
    const kid = s.kid === undefined ? key.kid : s.kid;
    if (kid !== null) header.kid = kid;

    if (s.signature === "none") {
      return `${b64json({ alg: "none", typ: "JWT" })}.${b64json(claims)}.`;
    }
    if (s.signature === "hs256-client-secret") {
      return new jose.SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .sign(new TextEncoder().encode(this.clientSecret));
    }
    const jwt = await new jose.SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
    if (s.signature === "corrupt") {
      const [h, p, signature = ""] = jwt.split(".");
      const bytes = Buffer.from(signature, "base64url");
      bytes[0] = (bytes[0] ?? 0) ^ 0xff;
      return `${h}.${p}.${bytes.toString("base64url")}`;
    }
    return jwt;
  }

  private userinfo(req: IncomingMessage, res: ServerResponse): void {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!token || !this.accessTokens.has(token)) {
      res.setHeader("www-authenticate", 'Bearer error="invalid_token"');
      json(res, 401, { error: "invalid_token" });
      return;
    }
    json(res, 200, withOverrides({ ...this.user }, this.scenario.userinfo));
  }
}

export async function startHostileProvider(options: StartOptions): Promise<HostileProvider> {
  const keys = await Promise.all(SIGNING_ALGS.map(sharedKey));
  let provider: HostileProvider | undefined;
  const server = createServer((req, res) => {
    if (!provider) return void res.writeHead(503).end();
    provider.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: "server_error", error_description: String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  provider = new HostileProvider(
    server,
    `http://localhost:${port}${options.issuerPath ?? ""}`,
    options,
    keys,
  );
  return provider;
}

/** OIDC Core 3.1.3.6: the left half of the hash of the access token, with the JWS alg's hash. */
export function accessTokenHash(accessToken: string, alg: string): string {
  const hash = alg === "EdDSA" || alg.endsWith("512") ? "sha512" : alg.endsWith("384") ? "sha384" : "sha256";
  const digest = createHash(hash).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString("base64url");
}

function pkceChallenge(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base, ...overrides };
  for (const [key, value] of Object.entries(result)) if (value === undefined) delete result[key];
  return result;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}

function streamHuge(res: ServerResponse, declareLength: boolean): void {
  const chunk = Buffer.alloc(64 * 1024, "a");
  const chunks = 10; // 640 KiB, past the 512 KiB cap
  res.writeHead(200, {
    "content-type": "application/json",
    ...(declareLength ? { "content-length": String(chunk.length * chunks + 2) } : {}),
  });
  res.write('"');
  let sent = 0;
  const pump = () => {
    while (sent < chunks && !res.destroyed) {
      sent++;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end('"');
  };
  pump();
  res.on("error", () => {});
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString()));
    req.on("error", reject);
  });
}

/** Waits, but no longer than the client does: a timer left running would hold the test process. */
function sleepUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
