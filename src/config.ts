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
  /**
   * Which proxies may set X-Forwarded-For: false (none), true (all: "all"), or a list of
   * addresses and CIDR ranges. Rate limits per IP count the real client only behind a trusted proxy.
   */
  trustProxy: boolean | string[];
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

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: Env = process.env): Config {
  const rawBase = env.GATEHOUSE_BASE_URL || "http://localhost:3000";
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
  if (!baseUrl.pathname.endsWith("/")) baseUrl.pathname += "/";

  const databaseUrl = env.GATEHOUSE_DATABASE_URL || "sqlite:data/gatehouse.db";
  if (!databaseUrl.startsWith("sqlite:") && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('GATEHOUSE_DATABASE_URL must start with "sqlite:" or "postgres://"');
  }
  const secretKey = env.GATEHOUSE_SECRET_KEY || undefined;
  if (secretKey === undefined && !databaseUrl.startsWith("sqlite:")) {
    throw new ConfigError(
      "GATEHOUSE_SECRET_KEY is required with PostgreSQL: every instance must share it. Generate one with: openssl rand -base64 32",
    );
  }

  return {
    baseUrl,
    port: integer(env, "PORT", 3000, 0, 65535),
    host: env.HOST || "127.0.0.1",
    databaseUrl,
    databasePoolSize: integer(env, "GATEHOUSE_DATABASE_POOL_SIZE", 10, 1, 100),
    secretKey,
    previousSecretKeys: (env.GATEHOUSE_PREVIOUS_SECRET_KEYS ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean),
    allowPrivateIssuers: env.GATEHOUSE_ALLOW_PRIVATE_ISSUERS === "1",
    linkedin: {
      issuer: env.GATEHOUSE_LINKEDIN_ISSUER || "https://www.linkedin.com/oauth",
      clientId: env.GATEHOUSE_LINKEDIN_CLIENT_ID || undefined,
      clientSecret: env.GATEHOUSE_LINKEDIN_CLIENT_SECRET || undefined,
    },
    logLevel: env.LOG_LEVEL || "info",
    sessionTtlSeconds: integer(env, "GATEHOUSE_SESSION_TTL_SECONDS", 8 * 3600, 60, 30 * 86400),
    sessionCacheSize: integer(env, "GATEHOUSE_SESSION_CACHE_SIZE", 100_000, 0, 10_000_000),
    passwordAttemptsPerAccount: integer(env, "GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT", 5, 1, 1000),
    passwordAttemptsPerIp: integer(env, "GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP", 20, 1, 100000),
    rateLimitWindowSeconds: integer(env, "GATEHOUSE_RATE_LIMIT_WINDOW_SECONDS", 900, 1, 86400),
    idpTimeoutMs: integer(env, "GATEHOUSE_IDP_TIMEOUT_MS", 10_000, 100, 120_000),
    ssoAttemptsPerIpPerMinute: integer(env, "GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE", 60, 1, 1_000_000),
    trustProxy: parseTrustProxy(env.GATEHOUSE_TRUST_PROXY),
    dnsServers: parseDnsServers(env.GATEHOUSE_DNS_SERVERS),
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

function parseTrustProxy(raw: string | undefined): boolean | string[] {
  const value = raw?.trim() ?? "";
  if (value === "" || value === "none") return false;
  if (value === "all") return true;
  const entries = value
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (
      !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry) &&
      !["loopback", "linklocal", "uniquelocal"].includes(entry)
    ) {
      throw new ConfigError(
        `GATEHOUSE_TRUST_PROXY: "${entry}" is not an address, a CIDR range, loopback, linklocal or uniquelocal (or use "all")`,
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
