import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";

/**
 * The one place Gatehouse reads its environment. Each setting sits beside its default and its
 * meaning; docs/configuration.md mirrors this list.
 */
export interface Config {
  /** Public URL; callback URLs derive from it. */
  baseUrl: URL;
  port: number;
  host: string;
  /** `sqlite:<path>` or `postgres://...`. */
  databaseUrl: string;
  /** PostgreSQL connections each instance may open; ignored for SQLite. */
  databasePoolSize: number;
  /** Base64 of 32 bytes, or undefined to generate one next to the SQLite database. */
  secretKey: string | undefined;
  /** Older keys (comma-separated base64) still accepted for decryption during rotation. */
  previousSecretKeys: string[];
  /** Development and tests only: allows http: issuers and private or loopback addresses. */
  allowPrivateIssuers: boolean;
  linkedin: { issuer: string; clientId: string | undefined; clientSecret: string | undefined };
  logLevel: string;
  /** Session lifetime in seconds. */
  sessionTtlSeconds: number;
  /** A session unused for this many seconds ends; at or above the lifetime, only the lifetime counts. */
  sessionIdleTimeoutSeconds: number;
  /** Validated sessions kept in memory per instance (about 300 bytes each); 0 turns the cache off. */
  sessionCacheSize: number;
  /** Password attempts allowed per account and per IP in one window. */
  passwordAttemptsPerAccount: number;
  passwordAttemptsPerIp: number;
  rateLimitWindowSeconds: number;
  /** Total time allowed for one request to an identity provider (discovery, JWKS, token, userinfo). */
  idpTimeoutMs: number;
  /** SSO and LinkedIn flows (start + callback) allowed per client IP per minute. */
  ssoAttemptsPerIpPerMinute: number;
  /** SSO and LinkedIn sign-ins a client IP may start within a login transaction's lifetime. */
  ssoStartsPerIpPerTransactionTtl: number;
  /**
   * Which proxies may set X-Forwarded-For: false (none), a number of hops ("all" is 1: the
   * connecting peer, whatever its address), or a list of addresses and CIDR ranges. The client
   * is the right-most address not trusted. Rate limits per IP count the real client only behind
   * a trusted proxy.
   */
  trustProxy: false | "all" | number | string[];
  /** Bearer token `/metrics` requires; undefined: `/metrics` is not served. */
  metricsToken: string | undefined;
  /** Seconds between SIGTERM (readiness turns 503) and closing the listener. */
  shutdownDelaySeconds: number;
  /** Audit events older than this many days are purged by the maintenance job; 0 keeps them forever. */
  auditRetentionDays: number;
  /**
   * DNS servers for domain verification (`GATEHOUSE_DNS_SERVERS`, comma-separated `host[:port]`,
   * e.g. `127.0.0.1:5353`); empty means the system's resolvers.
   */
  dnsServers: string[];
  /** Per-try timeout of a domain-verification lookup; two tries per server at most. */
  dnsTimeoutMs: number;
  /** How often the background job re-checks each verified domain's TXT record. */
  domainRecheckIntervalSeconds: number;
}

interface VariableSpec {
  /** Masked by `gatehouse config check`; also readable from `<NAME>_FILE`. */
  secret?: true;
  /** For `config check`; the detail is in docs/configuration.md. */
  meaning: string;
}

/**
 * Every variable Gatehouse reads. `loadConfig` reads only through these names (its reader is
 * typed by them), the start-up refuses unknown `GATEHOUSE_*` names against this list, and
 * `config check` prints it: a new setting declared here cannot be forgotten by any of them.
 */
export const VARIABLES = {
  GATEHOUSE_BASE_URL: { meaning: "public URL; callback URLs derive from it" },
  PORT: { meaning: "listen port" },
  HOST: { meaning: "listen address" },
  GATEHOUSE_DATABASE_URL: { meaning: "sqlite:<path> or postgres://...", secret: true },
  GATEHOUSE_DATABASE_POOL_SIZE: { meaning: "PostgreSQL connections per instance" },
  GATEHOUSE_SECRET_KEY: { meaning: "32 bytes, base64: seals secrets at rest, keys cookies", secret: true },
  GATEHOUSE_PREVIOUS_SECRET_KEYS: { meaning: "older keys still accepted during a rotation", secret: true },
  GATEHOUSE_ALLOW_PRIVATE_ISSUERS: { meaning: "development only: http: and private-address issuers" },
  GATEHOUSE_LINKEDIN_ISSUER: { meaning: "LinkedIn's OpenID Connect issuer" },
  GATEHOUSE_LINKEDIN_CLIENT_ID: { meaning: "the Continue with LinkedIn app's client id" },
  GATEHOUSE_LINKEDIN_CLIENT_SECRET: {
    meaning: "the Continue with LinkedIn app's client secret",
    secret: true,
  },
  LOG_LEVEL: { meaning: "pino level" },
  GATEHOUSE_SESSION_TTL_SECONDS: { meaning: "session lifetime" },
  GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: { meaning: "a session unused this long ends" },
  GATEHOUSE_SESSION_CACHE_SIZE: { meaning: "validated sessions kept in memory per instance" },
  GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: { meaning: "password attempts per account per window" },
  GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: { meaning: "password attempts per IP per window" },
  GATEHOUSE_RATE_LIMIT_WINDOW_SECONDS: { meaning: "the rate-limit window" },
  GATEHOUSE_IDP_TIMEOUT_MS: { meaning: "time allowed for each request to an identity provider" },
  GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: { meaning: "SSO flows per client IP per minute" },
  GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: {
    meaning: "SSO sign-ins a client IP may start within a login transaction's 10 minutes",
  },
  GATEHOUSE_TRUST_PROXY: { meaning: "proxies allowed to set X-Forwarded-For" },
  GATEHOUSE_METRICS_TOKEN: {
    meaning: "bearer token /metrics requires (at least 32 characters); unset: /metrics is off",
    secret: true,
  },
  GATEHOUSE_AUDIT_RETENTION_DAYS: { meaning: "days audit events are kept; 0 keeps them forever" },
  GATEHOUSE_SHUTDOWN_DELAY_SECONDS: { meaning: "seconds /readyz answers 503 before the listener closes" },
  GATEHOUSE_DNS_SERVERS: { meaning: "DNS servers for domain verification (host[:port], comma-separated)" },
  GATEHOUSE_DNS_TIMEOUT_MS: { meaning: "per-try timeout of a domain-verification DNS lookup" },
  GATEHOUSE_DOMAIN_RECHECK_INTERVAL_SECONDS: {
    meaning: "how often each verified domain's TXT record is re-checked",
  },
} as const satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;

/** Read by the test suite and the benchmark, never by the server; allowed in its environment. */
export const HARNESS_VARIABLES = [
  "GATEHOUSE_TEST_POSTGRES_URL",
  "GATEHOUSE_TEST_DATABASE",
  "GATEHOUSE_BENCH_POSTGRES_URL",
];

export function isSecretVariable(name: VariableName): boolean {
  return "secret" in VARIABLES[name];
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

/** Where each variable's value came from, for `config check`. */
export type Source = "environment" | "file" | "default";

/**
 * Reads declared variables only. A secret may come from `<NAME>_FILE` instead (a mounted
 * Kubernetes or Docker secret); its content is used without the trailing newline.
 */
export class EnvReader {
  readonly sources = new Map<VariableName, Source>();
  constructor(private readonly env: Env) {}

  get(name: VariableName): string | undefined {
    const fileName = `${name}_FILE`;
    const file = isSecretVariable(name) ? this.env[fileName] : undefined;
    const direct = this.env[name];
    if (file !== undefined && file !== "") {
      if (direct !== undefined && direct !== "") {
        throw new ConfigError(`${name} and ${fileName} are both set; keep one`);
      }
      let content: string;
      try {
        content = readFileSync(file, "utf8");
      } catch (error) {
        throw new ConfigError(
          `${fileName}: cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
      this.sources.set(name, "file");
      return content.replace(/\r?\n$/, "");
    }
    this.sources.set(name, direct === undefined || direct === "" ? "default" : "environment");
    return direct;
  }
}

function integer(env: EnvReader, name: VariableName, fallback: number, min: number, max: number): number {
  const raw = env.get(name);
  if (raw === undefined || raw === "") return fallback;
  // Decimal digits only: Number() would also read "0x9c41", "1e3" and " 80 ".
  const value = /^-?[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** `1/0`, `true/false`, `yes/no` (any case); anything else is refused rather than read as false. */
function boolean(env: EnvReader, name: VariableName): boolean {
  const raw = env.get(name);
  if (raw === undefined || raw === "") return false;
  const value = raw.toLowerCase();
  if (["1", "true", "yes"].includes(value)) return true;
  if (["0", "false", "no"].includes(value)) return false;
  throw new ConfigError(`${name} must be one of 1, 0, true, false, yes, no; got "${raw}"`);
}

/**
 * Refuses `GATEHOUSE_*` names that Gatehouse does not read, naming the closest known one: a
 * misspelt setting would otherwise be silently ignored.
 */
export function checkUnknownVariables(env: Env): void {
  const known = new Set<string>([...Object.keys(VARIABLES), ...HARNESS_VARIABLES]);
  for (const name of Object.keys(VARIABLES) as VariableName[]) {
    if (isSecretVariable(name)) known.add(`${name}_FILE`);
  }
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith("GATEHOUSE_") && env[name] !== undefined && !known.has(name))
    .sort();
  if (unknown.length === 0) return;
  const lines = unknown.map((name) => {
    const base = name.replace(/_FILE$/, "");
    if (base !== name && Object.hasOwn(VARIABLES, base)) {
      return `${name} (only secrets are read from files; set ${base} itself)`;
    }
    const suggestion = closest(name, [...known]);
    return suggestion ? `${name} (did you mean ${suggestion}?)` : name;
  });
  throw new ConfigError(
    `unknown setting${unknown.length > 1 ? "s" : ""}: ${lines.join(", ")}. Every setting is listed in docs/configuration.md.`,
  );
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Suggest only what looks like a typo, not any variable at all.
  return bestDistance <= Math.max(3, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export function loadConfig(environment: Env = process.env): Config {
  return readConfig(environment).config;
}

/** The configuration and where each value came from; refuses unknown `GATEHOUSE_*` names first. */
export function readConfig(environment: Env = process.env): {
  config: Config;
  sources: Map<VariableName, Source>;
} {
  checkUnknownVariables(environment);
  const env = new EnvReader(environment);
  const config = buildConfig(env);
  return { config, sources: env.sources };
}

function buildConfig(env: EnvReader): Config {
  const rawBase = env.get("GATEHOUSE_BASE_URL") || "http://localhost:3000";
  let baseUrl: URL;
  try {
    baseUrl = new URL(rawBase);
  } catch {
    throw new ConfigError(`GATEHOUSE_BASE_URL is not a URL: "${rawBase}"`);
  }
  if (baseUrl.protocol !== "https:" && baseUrl.protocol !== "http:") {
    throw new ConfigError("GATEHOUSE_BASE_URL must be an http: or https: URL");
  }
  if (baseUrl.search || baseUrl.hash)
    throw new ConfigError("GATEHOUSE_BASE_URL must not have a query or fragment");
  if (baseUrl.username || baseUrl.password)
    throw new ConfigError("GATEHOUSE_BASE_URL must not carry a user name or password");
  // Routes, links, cookies and the OpenID Provider's endpoints all live at the origin's root: a
  // path would give an issuer that disagrees with its own endpoints and pages that link outside it.
  if (baseUrl.pathname !== "/") {
    throw new ConfigError(
      `GATEHOUSE_BASE_URL must not have a path ("${baseUrl.pathname}"): Gatehouse is served at the root of its origin; give it its own host name (e.g. https://sso.example.com)`,
    );
  }

  const databaseUrl = parseDatabaseUrl(env.get("GATEHOUSE_DATABASE_URL") || "sqlite:data/gatehouse.db");
  const secretKey = env.get("GATEHOUSE_SECRET_KEY") || undefined;
  if (secretKey === undefined && !databaseUrl.startsWith("sqlite:")) {
    throw new ConfigError(
      "GATEHOUSE_SECRET_KEY is required with PostgreSQL: every instance must share it. Generate one with: openssl rand -base64 32",
    );
  }
  if (secretKey !== undefined) decodeSecretKey(secretKey, "GATEHOUSE_SECRET_KEY");
  const previousSecretKeys = (env.get("GATEHOUSE_PREVIOUS_SECRET_KEYS") ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  for (const [i, key] of previousSecretKeys.entries()) {
    decodeSecretKey(key, `GATEHOUSE_PREVIOUS_SECRET_KEYS (key ${i + 1} of ${previousSecretKeys.length})`);
  }

  const allowPrivateIssuers = boolean(env, "GATEHOUSE_ALLOW_PRIVATE_ISSUERS");
  return {
    baseUrl,
    port: integer(env, "PORT", 3000, 0, 65535),
    host: env.get("HOST") || "127.0.0.1",
    databaseUrl,
    databasePoolSize: integer(env, "GATEHOUSE_DATABASE_POOL_SIZE", 10, 1, 100),
    secretKey,
    previousSecretKeys,
    allowPrivateIssuers,
    linkedin: parseLinkedIn(env, allowPrivateIssuers),
    logLevel: parseLogLevel(env.get("LOG_LEVEL")),
    sessionTtlSeconds: integer(env, "GATEHOUSE_SESSION_TTL_SECONDS", 8 * 3600, 60, 30 * 86400),
    // From 2 minutes: the last use is recorded at most once a minute.
    sessionIdleTimeoutSeconds: integer(
      env,
      "GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS",
      2 * 3600,
      120,
      30 * 86400,
    ),
    sessionCacheSize: integer(env, "GATEHOUSE_SESSION_CACHE_SIZE", 100_000, 0, 10_000_000),
    passwordAttemptsPerAccount: integer(env, "GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT", 5, 1, 1000),
    passwordAttemptsPerIp: integer(env, "GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP", 20, 1, 100000),
    rateLimitWindowSeconds: integer(env, "GATEHOUSE_RATE_LIMIT_WINDOW_SECONDS", 900, 1, 86400),
    idpTimeoutMs: integer(env, "GATEHOUSE_IDP_TIMEOUT_MS", 10_000, 100, 120_000),
    ssoAttemptsPerIpPerMinute: integer(env, "GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE", 60, 1, 1_000_000),
    ssoStartsPerIpPerTransactionTtl: integer(
      env,
      "GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES",
      100,
      1,
      10_000_000,
    ),
    trustProxy: parseTrustProxy(env.get("GATEHOUSE_TRUST_PROXY")),
    metricsToken: parseMetricsToken(env.get("GATEHOUSE_METRICS_TOKEN")),
    auditRetentionDays: integer(env, "GATEHOUSE_AUDIT_RETENTION_DAYS", 400, 0, 36_500),
    shutdownDelaySeconds: integer(env, "GATEHOUSE_SHUTDOWN_DELAY_SECONDS", 0, 0, 300),
    dnsServers: parseDnsServers(env.get("GATEHOUSE_DNS_SERVERS")),
    dnsTimeoutMs: integer(env, "GATEHOUSE_DNS_TIMEOUT_MS", 2_000, 100, 30_000),
    domainRecheckIntervalSeconds: integer(
      env,
      "GATEHOUSE_DOMAIN_RECHECK_INTERVAL_SECONDS",
      86_400,
      60,
      30 * 86_400,
    ),
  };
}

/**
 * The 32 bytes of a secret key given in base64 (`GATEHOUSE_SECRET_KEY`, each previous key, the
 * generated key file), or a refusal naming where it came from. `loadConfig` checks every
 * configured key with it, so `config check` and `serve` refuse the same keys, before anything
 * is opened or written.
 */
export function decodeSecretKey(base64: string, name: string): Buffer {
  const bytes = Buffer.from(base64.trim(), "base64");
  if (bytes.length !== 32) {
    throw new ConfigError(
      `${name} must be 32 bytes encoded in base64 (openssl rand -base64 32); got ${bytes.length} bytes`,
    );
  }
  return bytes;
}

const DATABASE_URL_FORMS = 'GATEHOUSE_DATABASE_URL must be "sqlite:<path to a file>" or "postgres://..."';

/**
 * `sqlite:` with an empty path would open a temporary database that vanishes at exit (and keep
 * the generated secret key in the working folder's parent); `sqlite::memory:` loses everything
 * the same way, so `serve` refuses it (see `checkServeConfig`).
 */
function parseDatabaseUrl(raw: string): string {
  if (raw.startsWith("sqlite:")) {
    const file = raw.slice("sqlite:".length);
    if (file.trim() === "") throw new ConfigError(`${DATABASE_URL_FORMS}; "sqlite:" names no file`);
    if (file !== ":memory:" && (file.endsWith("/") || file.endsWith(path.sep))) {
      throw new ConfigError(`${DATABASE_URL_FORMS}; "${raw}" names a folder`);
    }
    return raw;
  }
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError(DATABASE_URL_FORMS);
  try {
    new URL(raw);
  } catch {
    throw new ConfigError("GATEHOUSE_DATABASE_URL is not a valid postgres:// URL");
  }
  return raw;
}

/** What only a long-running server must refuse; the one-shot commands may use a memory database. */
export function checkServeConfig(config: Pick<Config, "databaseUrl">): void {
  if (config.databaseUrl === "sqlite::memory:") {
    throw new ConfigError(
      "GATEHOUSE_DATABASE_URL=sqlite::memory: keeps nothing once the server stops; name a file (sqlite:data/gatehouse.db)",
    );
  }
}

/** Continue with LinkedIn is on when both its client id and secret are set, and only then. */
function parseLinkedIn(env: EnvReader, allowPrivateIssuers: boolean): Config["linkedin"] {
  const issuer = env.get("GATEHOUSE_LINKEDIN_ISSUER") || "https://www.linkedin.com/oauth";
  let url: URL | undefined;
  try {
    url = new URL(issuer);
  } catch {
    url = undefined;
  }
  if (!url || !(url.protocol === "https:" || (allowPrivateIssuers && url.protocol === "http:"))) {
    throw new ConfigError(
      `GATEHOUSE_LINKEDIN_ISSUER must be an https: URL${allowPrivateIssuers ? " (or http:)" : ""}, got "${issuer}"`,
    );
  }
  const clientId = env.get("GATEHOUSE_LINKEDIN_CLIENT_ID") || undefined;
  const clientSecret = env.get("GATEHOUSE_LINKEDIN_CLIENT_SECRET") || undefined;
  if (clientId !== undefined && clientSecret === undefined) {
    throw new ConfigError("GATEHOUSE_LINKEDIN_CLIENT_ID is set without GATEHOUSE_LINKEDIN_CLIENT_SECRET");
  }
  if (clientSecret !== undefined && clientId === undefined) {
    throw new ConfigError("GATEHOUSE_LINKEDIN_CLIENT_SECRET is set without GATEHOUSE_LINKEDIN_CLIENT_ID");
  }
  return { issuer, clientId, clientSecret };
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function parseLogLevel(raw: string | undefined): string {
  const value = raw || "info";
  if (!LOG_LEVELS.includes(value)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}; got "${value}"`);
  }
  return value;
}

function parseMetricsToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  // Compared on every scrape; a short one could be guessed from outside.
  if (raw.length < 32 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError(
      "GATEHOUSE_METRICS_TOKEN must be at least 32 printable characters without spaces (openssl rand -hex 32)",
    );
  }
  return raw;
}

/**
 * What Fastify's `trustProxy` takes: "all" trusts one hop, the connecting peer, never the whole
 * header (proxy-addr walks from the socket leftwards and stops at the first untrusted hop).
 */
export function fastifyTrustProxy(
  config: Pick<Config, "trustProxy">,
): false | string[] | ((address: string, hop: number) => boolean) {
  const trust = config.trustProxy === "all" ? 1 : config.trustProxy;
  return typeof trust === "number" ? (_address, hop) => hop < trust : trust;
}

/**
 * `none`, `all` (the connecting peer whatever its address: one hop), a number of hops, or
 * addresses, CIDR ranges and the names loopback, linklocal, uniquelocal. Behind trusted proxies
 * the client is the right-most X-Forwarded-For address that is not trusted: what a client writes
 * into the header itself sits to the left of what the proxies append.
 */
function parseTrustProxy(raw: string | undefined): Config["trustProxy"] {
  const value = raw?.trim() ?? "";
  if (value === "" || value === "none") return false;
  if (value === "all") return "all";
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > 10)
      throw new ConfigError(`GATEHOUSE_TRUST_PROXY: a hop count is 1 to 10, got "${value}"`);
    return hops;
  }
  const entries = value
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (["loopback", "linklocal", "uniquelocal"].includes(entry)) continue;
    const [address = "", prefix, ...rest] = entry.split("/");
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixValid = prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixValid || rest.length > 0) {
      throw new ConfigError(
        `GATEHOUSE_TRUST_PROXY: "${entry}" is not an address, a CIDR range, loopback, linklocal or uniquelocal (or use "all" or a hop count)`,
      );
    }
  }
  return entries;
}

/** `127.0.0.1`, `127.0.0.1:5353`, `::1` or `[::1]:5353`, as `Resolver.setServers` takes them. */
function parseDnsServers(raw: string | undefined): string[] {
  const entries = (raw ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
    const hostPort = /^([^:]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = bracketed?.[1] ?? (hostPort ? hostPort[1] : entry);
    const port = bracketed?.[2] ?? hostPort?.[2];
    if (!host || !isIP(host) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
      throw new ConfigError(
        `GATEHOUSE_DNS_SERVERS: "${entry}" is not an IP address with an optional port (e.g. 127.0.0.1:5353 or [::1]:53)`,
      );
    }
  }
  return entries;
}

/** The SQLite database file (relative to the working folder), or undefined for memory and PostgreSQL. */
export function sqliteFile(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith("sqlite:")) return undefined;
  const file = databaseUrl.slice("sqlite:".length);
  return file === ":memory:" ? undefined : file;
}

/** The folder the SQLite database lives in, where a generated secret key is kept. */
export function sqliteDataDir(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith("sqlite:")) return undefined;
  const file = databaseUrl.slice("sqlite:".length);
  if (file === ":memory:") return undefined;
  return path.dirname(path.resolve(file));
}

export function isSecureBaseUrl(config: Pick<Config, "baseUrl">): boolean {
  return config.baseUrl.protocol === "https:";
}

/** An absolute URL under the base URL, e.g. `urlFor(config, "sso/oidc/callback")`. */
export function urlFor(config: Pick<Config, "baseUrl">, relativePath: string): string {
  return new URL(relativePath.replace(/^\//, ""), config.baseUrl).toString();
}

/** How `config check` shows each setting's effective value; a declared variable without one does not compile. */
const EFFECTIVE: Record<VariableName, (c: Config) => string> = {
  GATEHOUSE_BASE_URL: (c) => c.baseUrl.toString(),
  PORT: (c) => String(c.port),
  HOST: (c) => c.host,
  GATEHOUSE_DATABASE_URL: (c) => c.databaseUrl,
  GATEHOUSE_DATABASE_POOL_SIZE: (c) => String(c.databasePoolSize),
  GATEHOUSE_SECRET_KEY: (c) => c.secretKey ?? "",
  GATEHOUSE_PREVIOUS_SECRET_KEYS: (c) => c.previousSecretKeys.join(","),
  GATEHOUSE_ALLOW_PRIVATE_ISSUERS: (c) => String(c.allowPrivateIssuers),
  GATEHOUSE_LINKEDIN_ISSUER: (c) => c.linkedin.issuer,
  GATEHOUSE_LINKEDIN_CLIENT_ID: (c) => c.linkedin.clientId ?? "",
  GATEHOUSE_LINKEDIN_CLIENT_SECRET: (c) => c.linkedin.clientSecret ?? "",
  LOG_LEVEL: (c) => c.logLevel,
  GATEHOUSE_SESSION_TTL_SECONDS: (c) => String(c.sessionTtlSeconds),
  GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS: (c) => String(c.sessionIdleTimeoutSeconds),
  GATEHOUSE_SESSION_CACHE_SIZE: (c) => String(c.sessionCacheSize),
  GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: (c) => String(c.passwordAttemptsPerAccount),
  GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: (c) => String(c.passwordAttemptsPerIp),
  GATEHOUSE_RATE_LIMIT_WINDOW_SECONDS: (c) => String(c.rateLimitWindowSeconds),
  GATEHOUSE_IDP_TIMEOUT_MS: (c) => String(c.idpTimeoutMs),
  GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: (c) => String(c.ssoAttemptsPerIpPerMinute),
  GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: (c) => String(c.ssoStartsPerIpPerTransactionTtl),
  GATEHOUSE_TRUST_PROXY: (c) =>
    c.trustProxy === false || c.trustProxy === "all"
      ? c.trustProxy || "none"
      : typeof c.trustProxy === "number"
        ? `${c.trustProxy} hop${c.trustProxy > 1 ? "s" : ""}`
        : c.trustProxy.join(","),
  GATEHOUSE_METRICS_TOKEN: (c) => c.metricsToken ?? "",
  GATEHOUSE_AUDIT_RETENTION_DAYS: (c) => String(c.auditRetentionDays),
  GATEHOUSE_SHUTDOWN_DELAY_SECONDS: (c) => String(c.shutdownDelaySeconds),
  GATEHOUSE_DNS_SERVERS: (c) => (c.dnsServers.length > 0 ? c.dnsServers.join(",") : "system"),
  GATEHOUSE_DNS_TIMEOUT_MS: (c) => String(c.dnsTimeoutMs),
  GATEHOUSE_DOMAIN_RECHECK_INTERVAL_SECONDS: (c) => String(c.domainRecheckIntervalSeconds),
};

export interface EffectiveSetting {
  name: VariableName;
  /** Secrets masked: a database URL keeps all but its password. */
  value: string;
  source: Source;
  meaning: string;
}

export function effectiveSettings(config: Config, sources: Map<VariableName, Source>): EffectiveSetting[] {
  return (Object.keys(VARIABLES) as VariableName[]).map((name) => {
    const raw = EFFECTIVE[name](config);
    let value = raw;
    if (name === "GATEHOUSE_DATABASE_URL") value = maskDatabaseUrl(raw);
    else if (isSecretVariable(name)) value = raw === "" ? "" : "********";
    if (name === "GATEHOUSE_SECRET_KEY" && raw === "") {
      value = `(generated in ${sqliteDataDir(config.databaseUrl) ?? "the data folder"}/secret.key)`;
    }
    return { name, value, source: sources.get(name) ?? "default", meaning: VARIABLES[name].meaning };
  });
}

/** Query parameters of a PostgreSQL URL that carry a secret (libpq's `password`, `sslpassword`). */
const SECRET_URL_PARAMETERS = new Set(["password", "sslpassword"]);

/**
 * The database URL as it may be printed or logged: the user name, host, database and options
 * stay, every password (in the user info or a query parameter) is masked.
 */
export function maskDatabaseUrl(raw: string): string {
  if (raw.startsWith("sqlite:")) return raw;
  try {
    const url = new URL(raw);
    if (url.password) url.password = "********";
    // Parameter by parameter, so the others keep their spelling (URLSearchParams would re-encode them).
    if (url.search) {
      url.search = url.search
        .slice(1)
        .split("&")
        .map((parameter) => {
          const name = parameter.split("=", 1)[0] ?? "";
          return SECRET_URL_PARAMETERS.has(safeDecode(name).toLowerCase()) ? `${name}=********` : parameter;
        })
        .join("&");
    }
    return url.toString();
  } catch {
    return "********";
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
