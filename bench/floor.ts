import { parseArgs } from "node:util";
import * as client from "openid-client";
import { describeFailure, get, keepAlivePool } from "./lib/client.js";
import { closedLoop, percentiles } from "./lib/load.js";

/**
 * The floor: the same sign-in as Gatehouse's, done by a bare script with openid-client against
 * the same fast OP, with no server and no database. Discovery once; then per sign-in the
 * authorization URL with PKCE, state and nonce, the OP's authorize, and authorizationCodeGrant
 * with full ID token validation (claims, and the signature against the JWKS, as Gatehouse does).
 * Prints `{"measuring":true}` when the measured phase begins (after a warm-up), then one JSON
 * line with the result and its own CPU time.
 */
const { values } = parseArgs({
  options: {
    issuer: { type: "string" },
    "client-id": { type: "string" },
    "client-secret": { type: "string" },
    "redirect-uri": { type: "string" },
    concurrency: { type: "string", default: "32" },
    "warmup-count": { type: "string", default: "200" },
    "max-count": { type: "string", default: "100000" },
    "max-ms": { type: "string", default: "10000" },
  },
});
const issuer = new URL(values.issuer ?? "");
const clientId = values["client-id"] ?? "";
const redirectUri = values["redirect-uri"] ?? "";

const config = await client.discovery(
  issuer,
  clientId,
  undefined,
  client.ClientSecretBasic(values["client-secret"] ?? ""),
  { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
);
const op = keepAlivePool(issuer.origin);

async function signIn(i: number): Promise<number> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid email profile",
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    login_hint: `user${i % 200}@acme.test`,
  });
  const authorize = await get(op, url.pathname + url.search, {}, (s) => s !== 302);
  if (authorize.status !== 302 || !authorize.location) throw describeFailure("authorize", authorize);
  const began = performance.now();
  const tokens = await client.authorizationCodeGrant(config, new URL(authorize.location), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims?.email) throw new Error("no email claim");
  return performance.now() - began;
}

const concurrency = Number(values.concurrency);
const never = new AbortController().signal;
await closedLoop(
  concurrency,
  { maxCount: Number(values["warmup-count"]), maxMs: 30_000, signal: never },
  signIn,
);
process.stdout.write(`${JSON.stringify({ measuring: true })}\n`);
const cpuBefore = process.cpuUsage();
const result = await closedLoop(
  concurrency,
  { maxCount: Number(values["max-count"]), maxMs: Number(values["max-ms"]), signal: never },
  signIn,
);
const cpu = process.cpuUsage(cpuBefore);
await op.close();
process.stdout.write(
  `${JSON.stringify({
    completed: result.completed,
    errors: result.errors,
    errorSamples: result.errorSamples,
    elapsedMs: result.elapsedMs,
    rate: result.rate,
    tokenCall: percentiles(result.latencies),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  })}\n`,
);
