import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";
import { Agent, type Dispatcher, request } from "undici";
import { GatehouseError } from "../../errors.js";

/**
 * The one module that talks to identity providers: discovery, JWKS, token, userinfo. Every
 * call has connect and total timeouts and a response size cap, follows no redirect, and
 * cannot reach private, loopback, link-local or metadata addresses (checked on the address
 * actually connected to, after DNS resolution) unless GATEHOUSE_ALLOW_PRIVATE_ISSUERS=1.
 */
export interface OutboundOptions {
  allowPrivate: boolean;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxResponseBytes?: number;
}

// Two lists: a BlockList matches IPv4 addresses against IPv6 rules through their mapped form,
// so the ::ffff:0:0/96 rule below would otherwise block every IPv4 address.
const blocked = new BlockList();
const blocked6 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["64:ff9b::", 96],
  // Addresses that carry an IPv4 address inside, and reach it: IPv4-compatible (::a.b.c.d),
  // IPv4-mapped in hexadecimal form, local-use NAT64 (RFC 8215), 6to4 and Teredo. Refused
  // whole rather than decoded: no identity provider publishes its discovery on them.
  ["::", 96],
  ["::ffff:0:0", 96],
  ["64:ff9b:1::", 48],
  ["2002::", 16],
  ["2001::", 32],
  ["100::", 64],
] as const) {
  blocked6.addSubnet(net, prefix, "ipv6");
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return !blocked.check(mapped[1], "ipv4");
    return !blocked6.check(address, "ipv6");
  }
  return false;
}

function refused(url: string, reason: string): GatehouseError {
  return new GatehouseError("SSO_ISSUER_NOT_ALLOWED", `Gatehouse does not connect to ${url}: ${reason}.`, {
    detail: `outbound request refused: ${reason}`,
  });
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function guardedLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  dnsLookup(hostname, { all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) {
      const error = Object.assign(
        new Error(`${hostname} resolves to a non-public address (${bad.address})`),
        { code: "EGATEHOUSEPRIVATE" },
      );
      return callback(error, []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first)
      return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
    callback(null, first.address, first.family);
  });
}

/** The same shape as openid-client's customFetch, so this is what every flow step uses. */
export type IdpFetch = (url: string, init: IdpRequestInit) => Promise<Response>;

export interface IdpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams | Uint8Array | ArrayBuffer | ReadableStream | null | undefined;
  signal?: AbortSignal | undefined;
}

export function createIdpFetch(options: OutboundOptions): IdpFetch {
  const connectTimeout = options.connectTimeoutMs ?? 5000;
  const totalTimeout = options.totalTimeoutMs ?? 10000;
  const maxBytes = options.maxResponseBytes ?? 512 * 1024;
  const dispatcher = new Agent({
    connect: { timeout: connectTimeout, ...(options.allowPrivate ? {} : { lookup: guardedLookup }) },
    headersTimeout: totalTimeout,
    bodyTimeout: totalTimeout,
  });

  return async (url, init) => {
    const target = new URL(url);
    if (target.protocol !== "https:" && !(options.allowPrivate && target.protocol === "http:")) {
      throw refused(target.origin, "only https: URLs are allowed");
    }
    const host = target.hostname.replace(/^\[|\]$/g, "");
    if (!options.allowPrivate && isIP(host) && !isPublicAddress(host)) {
      throw refused(target.origin, "the address is private or loopback");
    }
    const headers: Record<string, string> = { ...init.headers };
    let body: string | Uint8Array | undefined;
    if (init.body instanceof URLSearchParams) {
      body = init.body.toString();
      headers["content-type"] ??= "application/x-www-form-urlencoded;charset=UTF-8";
    } else if (typeof init.body === "string" || init.body instanceof Uint8Array) {
      body = init.body;
    } else if (init.body instanceof ArrayBuffer) {
      body = new Uint8Array(init.body);
    }
    // Gatehouse's own deadline governs; the caller's signal (openid-client's, jose's) is a
    // looser backstop and would only cost an AbortSignal.any per call. A timer cleared once the
    // answer is read, not AbortSignal.timeout: that one stays armed for the whole deadline after
    // every call and then builds a DOMException, with its stack, for a request long finished.
    const deadline = new AbortController();
    const timer = setTimeout(abortOnDeadline, totalTimeout, deadline);
    try {
      return await fetchWithin(url, target, headers, body, init.method, deadline.signal);
    } finally {
      clearTimeout(timer);
    }
  };

  async function fetchWithin(
    url: string,
    target: URL,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    method: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: (method ?? "GET") as Dispatcher.HttpMethod,
        headers,
        ...(body === undefined ? {} : { body }),
        signal,
        dispatcher,
      });
    } catch (error) {
      throw describeNetworkError(target, error, totalTimeout);
    }
    const status = response.statusCode;
    if (status >= 300 && status < 400) {
      discard(response.body);
      throw new GatehouseError(
        "SSO_OUTBOUND_FAILED",
        `${target.origin}${target.pathname} answered with a redirect, which Gatehouse does not follow.`,
        { detail: `HTTP ${status} redirect to ${String(response.headers.location ?? "(none)")}` },
      );
    }
    const declared = Number(response.headers["content-length"] ?? "0");
    if (declared > maxBytes) {
      discard(response.body);
      throw tooLarge(target, maxBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          discard(response.body);
          throw tooLarge(target, maxBytes);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof GatehouseError) throw error;
      throw describeNetworkError(target, error, totalTimeout);
    }
    const answerHeaders = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const v of value) answerHeaders.append(name, v);
      else if (value !== undefined) answerHeaders.set(name, value);
    }
    return new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
      status,
      headers: answerHeaders,
    });
  }
}

function abortOnDeadline(deadline: AbortController): void {
  deadline.abort(new DOMException("The identity provider did not answer in time", "TimeoutError"));
}

/** Drops an answer's body; a later abort by the deadline must not surface as an unhandled error. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => undefined);
  body.destroy();
}

function tooLarge(target: URL, maxBytes: number): GatehouseError {
  return new GatehouseError(
    "SSO_OUTBOUND_FAILED",
    `${target.origin} sent a response larger than ${Math.round(maxBytes / 1024)} KiB.`,
    {
      detail: `response from ${target.origin}${target.pathname} exceeded ${maxBytes} bytes`,
    },
  );
}

function describeNetworkError(target: URL, error: unknown, totalTimeout: number): GatehouseError {
  const causes: unknown[] = [];
  for (let e: unknown = error; e && causes.length < 5; e = (e as { cause?: unknown }).cause) causes.push(e);
  const code = causes.map((e) => (e as { code?: string }).code).find(Boolean);
  const name = causes
    .map((e) => (e as { name?: string }).name)
    .find((n) => n === "TimeoutError" || n === "AbortError");
  if (code === "EGATEHOUSEPRIVATE") {
    return refused(target.origin, "its address is private or loopback");
  }
  let reason: string;
  if (
    name ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT"
  ) {
    reason = `did not answer within ${Math.round(totalTimeout / 1000)} seconds`;
  } else if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    reason = `the host name ${target.hostname} does not resolve`;
  } else if (code === "ECONNREFUSED") {
    reason = "refused the connection";
  } else if (code?.startsWith("ERR_TLS") || code?.includes("CERT")) {
    reason = `its TLS certificate was not accepted (${code})`;
  } else {
    reason = `could not be reached (${code ?? (error instanceof Error ? error.message : "network error")})`;
  }
  return new GatehouseError("SSO_OUTBOUND_FAILED", `${target.origin} ${reason}.`, {
    detail: `${target.origin}${target.pathname}: ${reason}`,
    cause: error,
  });
}

export interface CacheBounds {
  minMs: number;
  maxMs: number;
  /** When the provider says nothing usable. */
  fallbackMs: number;
}

/**
 * How long to keep a discovery document or JWKS: the provider's Cache-Control `max-age` (or
 * `s-maxage`), held within bounds. `no-store`/`no-cache` still mean the minimum, so a provider
 * cannot make Gatehouse fetch its metadata on every sign-in.
 */
export function cacheLifetimeMs(cacheControl: string | null | undefined, bounds: CacheBounds): number {
  if (!cacheControl) return bounds.fallbackMs;
  const directives = cacheControl
    .toLowerCase()
    .split(",")
    .map((d) => d.trim());
  if (directives.some((d) => d === "no-store" || d === "no-cache")) return bounds.minMs;
  let seconds: number | undefined;
  for (const directive of directives) {
    const match = /^(s-maxage|max-age)\s*=\s*"?(\d{1,10})"?$/.exec(directive);
    if (match?.[2] && (seconds === undefined || match[1] === "s-maxage")) seconds = Number(match[2]);
  }
  if (seconds === undefined) return bounds.fallbackMs;
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, seconds * 1000));
}
