/**
 * Issue 10, "done when": malformed values sent to every route answer 4xx, never 5xx. The routes
 * are those Fastify registers (its `onRoute` hook), so a new route is covered without being
 * listed here. Each route gets the same seeded cases: control characters, NUL, lone surrogates
 * (as text and as invalid UTF-8), over-long and wrongly typed values, in the path, the query, a
 * form body and a JSON body, bad JSON and unexpected content types; signed out, with an
 * organization admin's session (and its CSRF token) and with an API key.
 *
 * Runs on SQLite, and on PostgreSQL with GATEHOUSE_TEST_DATABASE=postgres (which refused NUL
 * with a 500 before). Deterministic: the cases come from a fixed seed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RouteOptions } from "fastify";
import { createApiKey, createOperatorApiKey } from "../../src/api/keys.js";
import { hashToken, randomToken } from "../../src/crypto/tokens.js";
import { sessionCookieName } from "../../src/session/cookie.js";
import { csrfCookieName } from "../../src/session/csrf.js";
import { insertSession } from "../../src/store/sessions.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

const SEED = 0x5eed_10;

/** Mulberry32: small, seedable, good enough to pick cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Text values as they arrive decoded: what a JSON body or a parsed query can hold. */
const TEXTS = [
  "a\u0000b",
  "\u0000",
  "x\u0007\u001b[31m",
  "line\r\nbreak",
  "\ud800",
  "tail\udfff",
  "\u202eevil\u202c",
  "zero\u200bwidth",
  "\u212Aelvin@example.com",
  "a".repeat(5000),
  "%00",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "' or 1=1 --",
  "",
  " ",
  "-1",
  "1e999",
  "NaN",
  "ghk_not-a-key",
];
/** The same, percent-encoded for a URL, plus bytes that are not UTF-8 at all. */
const ENCODED = [
  ...TEXTS.slice(0, 10).map((t) => encodeURIComponent(t.replace(/[\ud800-\udfff]/g, "x"))),
  "%ED%A0%80", // a lone surrogate as (invalid) UTF-8
  "%FF%FE",
  "%C0%AF",
  "%",
  "%zz",
  "a%00b",
  "x".repeat(3000),
];
/** Wrongly typed JSON values. */
const JSON_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  true,
  [],
  ["a\u0000"],
  {},
  { nested: { deeper: ["\ud800"] } },
  "a\u0000b",
  "\ud800",
  "x".repeat(70_000),
];
/** Field names the routes read, so that malformed values reach the code behind them. */
const FIELDS = [
  "email",
  "password",
  "return_to",
  "connection",
  "organization",
  "state",
  "code",
  "iss",
  "error",
  "name",
  "issuer",
  "clientId",
  "clientSecret",
  "domains",
  "domain",
  "type",
  "slug",
  "role",
  "limit",
  "after",
  "cursor",
  "outcome",
  "token",
  "_csrf",
  "end_sessions",
  "endSessions",
  "status",
  "redirectUris",
  "adminEmail",
  "allowedTenants",
];
/** Sub-paths under a wildcard route (the OpenID Provider's). */
const WILDCARD_TAILS = [
  "auth",
  "token",
  "me",
  "jwks",
  "session/end",
  "token/introspection",
  "reg",
  "%00",
  "%ED%A0%80",
  "a/../../b",
];

interface Route {
  method: string;
  url: string;
}

const routes: Route[] = [];
let gh: TestGatehouse;
let apiKey: string;
let operatorKey: string;
const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

before(async () => {
  gh = await startGatehouse({
    env: {
      // The fuzz would otherwise be answered 429 after its first requests from one address.
      GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "1000000",
      GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "1000000",
      GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "100000",
    },
    onRoute: (route: RouteOptions) => {
      for (const method of [route.method].flat()) {
        if (method === "HEAD" && route.url !== "/") continue;
        routes.push({ method, url: route.url });
      }
    },
  });
  await seedAcme(gh);
  ({ key: apiKey } = await createApiKey(gh.ctx, "acme", "fuzz"));
  ({ key: operatorKey } = await createOperatorApiKey(gh.ctx, "fuzz"));
});
after(() => gh.close());

/** A fresh admin session (written directly: no password hashing per route) and its CSRF pair. */
async function adminSession(): Promise<{ cookie: string; csrf: string }> {
  const db = gh.ctx.store.db;
  const admin = await db
    .selectFrom("users")
    .innerJoin("memberships", "memberships.user_id", "users.id")
    .select(["users.id", "memberships.organization_id"])
    .where("users.email", "=", "admin@acme.test")
    .executeTakeFirstOrThrow();
  const token = randomToken();
  const now = gh.ctx.now();
  await insertSession(db, {
    idHash: hashToken(token),
    userId: admin.id,
    organizationId: admin.organization_id,
    method: "password",
    connectionId: null,
    idTokenSealed: null,
    idpSid: null,
    createdAt: now,
    expiresAt: now + 3600_000,
  });
  const session = `${sessionCookieName(gh.ctx.config)}=${token}`;
  const page = await gh.app.inject({ method: "GET", url: "/admin", headers: { cookie: session } });
  const secret = [page.headers["set-cookie"] ?? []]
    .flat()
    .map((c) => c.split(";")[0] ?? "")
    .find((c) => c.startsWith(`${csrfCookieName(gh.ctx.config)}=`));
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(secret && csrf, "the admin page carries a CSRF token");
  return { cookie: `${session}; ${secret}`, csrf };
}

type Auth = "none" | "admin" | "api-key";

interface Case {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  remoteAddress: string;
}

function fill(url: string, rand: () => number): string {
  return url
    .split("/")
    .map((segment) => {
      if (segment === "*") return pick(rand, WILDCARD_TAILS);
      if (segment.startsWith(":")) return pick(rand, ENCODED);
      return segment;
    })
    .join("/");
}

function query(rand: () => number): string {
  const parts: string[] = [];
  const count = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < count; i++) {
    const key = rand() < 0.85 ? pick(rand, FIELDS) : pick(rand, ENCODED);
    parts.push(`${key}=${pick(rand, ENCODED)}`);
    // A repeated key arrives as an array.
    if (rand() < 0.2) parts.push(`${key}=${pick(rand, ENCODED)}`);
  }
  return parts.join("&");
}

function jsonBody(rand: () => number): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const count = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < count; i++) {
    body[pick(rand, FIELDS)] = rand() < 0.5 ? pick(rand, JSON_VALUES) : pick(rand, TEXTS);
  }
  return body;
}

function cases(
  route: Route,
  auth: Auth,
  rand: () => number,
  session?: { cookie: string; csrf: string },
): Case[] {
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(auth === "admin" && session ? { cookie: session.cookie } : {}),
    ...(auth === "api-key"
      ? {
          authorization: `Bearer ${route.url.includes("organizations") || route.url.includes("applications") ? operatorKey : apiKey}`,
        }
      : {}),
    ...extra,
  });
  const address = () =>
    `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 250)}`;
  const url = () => fill(route.url, rand);
  const list: Case[] = [
    { method: route.method, url: url(), headers: headers(), remoteAddress: address() },
    { method: route.method, url: `${url()}?${query(rand)}`, headers: headers(), remoteAddress: address() },
    {
      method: route.method,
      url: `${fill(route.url, () => 0.999)}?${query(rand)}`,
      headers: headers(),
      remoteAddress: address(),
    },
  ];
  if (route.method === "GET" || route.method === "HEAD") return list;
  const form = new URLSearchParams();
  if (session && auth === "admin") form.set("_csrf", session.csrf);
  for (let i = 0; i < 4; i++) form.append(pick(rand, FIELDS), pick(rand, TEXTS));
  const withCsrf = (body: Record<string, unknown>) =>
    session && auth === "admin" ? { _csrf: session.csrf, ...body } : body;
  list.push(
    {
      method: route.method,
      url: url(),
      headers: headers({ "content-type": "application/x-www-form-urlencoded" }),
      payload: form.toString(),
      remoteAddress: address(),
    },
    {
      method: route.method,
      url: fill(route.url, () => 0),
      headers: headers({ "content-type": "application/x-www-form-urlencoded" }),
      payload: `${session && auth === "admin" ? `_csrf=${session.csrf}&` : ""}${query(rand)}`,
      remoteAddress: address(),
    },
    {
      method: route.method,
      url: url(),
      headers: headers({ "content-type": "application/json" }),
      payload: JSON.stringify(withCsrf(jsonBody(rand))),
      remoteAddress: address(),
    },
    {
      method: route.method,
      url: url(),
      headers: headers({ "content-type": "application/json" }),
      payload: pick(rand, [
        '{"a":',
        "[1,2",
        "\u0000",
        "nul",
        '{"__proto__":{"x":1}}',
        '"just a string"',
        "123",
        "{}".repeat(1000),
      ]),
      remoteAddress: address(),
    },
    {
      method: route.method,
      url: url(),
      headers: headers({
        "content-type": pick(rand, [
          "text/plain",
          "application/xml",
          "multipart/form-data; boundary=x",
          "application/json; charset=latin1",
          "bogus",
        ]),
      }),
      payload: "a=1",
      remoteAddress: address(),
    },
    {
      method: route.method,
      url: url(),
      headers: headers({ "content-type": "application/json" }),
      payload: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // {"a":"<invalid UTF-8>"}
      remoteAddress: address(),
    },
    {
      method: route.method,
      url: url(),
      headers: headers({ "content-type": "application/json" }),
      payload: JSON.stringify({ big: "y".repeat(80 * 1024) }),
      remoteAddress: address(),
    },
  );
  return list;
}

/** The OpenID Provider's own endpoints answer in OAuth's error format, not Gatehouse's. */
function isProviderRoute(route: Route): boolean {
  return route.url.startsWith("/oidc") || route.url.startsWith("/.well-known/");
}

/**
 * A refusal in Gatehouse's format: JSON with a code for the API, an HTML page otherwise; never a
 * framework's own answer (`FST_ERR_*`) or a stack.
 */
function formatProblem(
  url: string,
  answer: { headers: Record<string, unknown>; body: string },
): string | undefined {
  const type = String(answer.headers["content-type"] ?? "");
  if (/FST_ERR|\n\s+at /.test(answer.body)) return "framework error or stack in the body";
  // JSON routes (the API, a connection's key set) answer JSON with a code; pages answer a page.
  if (type.startsWith("application/json")) {
    const body = JSON.parse(answer.body) as { code?: unknown };
    return typeof body.code === "string" && /^[A-Z_]+$/.test(body.code)
      ? undefined
      : "JSON answer without a code";
  }
  if (url.startsWith("/api/")) return `API answer of type ${type}`;
  return type.startsWith("text/html") ? undefined : `page answer of type ${type}`;
}

test("no route answers 5xx to malformed input, signed out, as an admin or with an API key", async () => {
  const rand = random(SEED);
  assert.ok(routes.length > 40, `routes found: ${routes.length}`);
  const failures: string[] = [];
  let sent = 0;
  for (const route of routes) {
    for (const auth of ["none", "admin", "api-key"] as const) {
      // A fresh admin session per route: a route may end the one it is given (sign-out).
      const session = auth === "admin" ? await adminSession() : undefined;
      for (const c of cases(route, auth, rand, session)) {
        const answer = await gh.app.inject({
          method: c.method as "GET",
          url: c.url,
          headers: c.headers,
          remoteAddress: c.remoteAddress,
          ...(c.payload === undefined ? {} : { payload: c.payload }),
        });
        sent++;
        const malformed =
          answer.statusCode >= 400 && !isProviderRoute(route) ? formatProblem(c.url, answer) : undefined;
        if (answer.statusCode >= 500 || malformed) {
          const shown = JSON.stringify(c.payload === undefined ? "" : String(c.payload).slice(0, 120));
          failures.push(
            `${answer.statusCode} ${c.method} ${c.url.slice(0, 160)} [${auth}] ${c.headers["content-type"] ?? ""} ${shown} → ${malformed ?? ""} ${answer.body.slice(0, 200)}`,
          );
        }
      }
    }
  }
  assert.ok(sent > routes.length * 9, `requests sent: ${sent}`);
  assert.deepEqual(
    failures,
    [],
    `${failures.length} of ${sent} requests answered 5xx or outside the error format`,
  );
});
