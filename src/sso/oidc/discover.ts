import * as client from "openid-client";
import { checkBrowserEndpoint } from "../../domain/browser-endpoints.js";
import { ENTRA_ORIGIN } from "../../domain/provider-claims.js";
import { GatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { findGatehouseError } from "./errors.js";
import { cacheLifetimeMs, createIdpFetch, type IdpFetch, type IdpRequestInit } from "./outbound.js";

export type ServerMetadata = client.ServerMetadata;

/** Discovery document lifetime: the provider's Cache-Control within these bounds. */
export const DISCOVERY_CACHE_BOUNDS = { minMs: 5 * 60_000, maxMs: 24 * 3600_000, fallbackMs: 3600_000 };
const metadataCache = new Map<string, { metadata: ServerMetadata; fetchedAt: number; maxAgeMs: number }>();
const fetchers = new WeakMap<AppContext, IdpFetch>();

export function idpFetch(ctx: AppContext): IdpFetch {
  let fetcher = fetchers.get(ctx);
  if (!fetcher) {
    const fetch = createIdpFetch({
      allowPrivate: ctx.config.allowPrivateIssuers,
      totalTimeoutMs: ctx.config.idpTimeoutMs,
      connectTimeoutMs: Math.min(5000, ctx.config.idpTimeoutMs),
    });
    // How long the provider took is the first question when a sign-in is slow.
    const { idpRequests } = ctx.metrics;
    fetcher = async (url, init) => {
      const began = performance.now();
      try {
        const response = await fetch(url, init);
        idpRequests.observe({ outcome: "answered" }, (performance.now() - began) / 1000);
        return response;
      } catch (error) {
        idpRequests.observe({ outcome: "failed" }, (performance.now() - began) / 1000);
        throw error;
      }
    };
    fetchers.set(ctx, fetcher);
  }
  return fetcher;
}

/** Checks the shape of an issuer URL before anything is fetched. */
export function parseIssuerUrl(ctx: AppContext, input: string): URL {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new GatehouseError("VALIDATION_FAILED", "The Issuer URL is not a URL.", {
      fields: { issuer: "enter a URL such as https://acme.okta.com" },
    });
  }
  if (url.protocol !== "https:" && !(ctx.config.allowPrivateIssuers && url.protocol === "http:")) {
    throw new GatehouseError("VALIDATION_FAILED", "The Issuer URL must start with https://.", {
      fields: { issuer: "must start with https://" },
    });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new GatehouseError(
      "VALIDATION_FAILED",
      "The Issuer URL must not contain a query, fragment or credentials.",
      {
        fields: { issuer: "remove the ?query, #fragment or user:password@ part" },
      },
    );
  }
  return url;
}

/**
 * OpenID Connect Discovery 1.0: fetches `{issuer}/.well-known/openid-configuration` and checks
 * that the document names exactly the issuer entered (section 4.3) and supports what
 * Gatehouse needs: the authorization code flow, a token endpoint and a JWKS.
 */
export async function discoverIssuer(
  ctx: AppContext,
  issuer: string,
  options: { fresh?: boolean } = {},
): Promise<ServerMetadata> {
  const cached = metadataCache.get(issuer);
  if (cached && !options.fresh && ctx.now() - cached.fetchedAt < cached.maxAgeMs) return cached.metadata;
  const url = parseIssuerUrl(ctx, issuer);
  let metadata: ServerMetadata;
  let cacheControl: string | null = null;
  const fetcher = idpFetch(ctx);
  try {
    const configuration = await client.discovery(url, "gatehouse-discovery", undefined, undefined, {
      [client.customFetch]: async (target: string, init: IdpRequestInit) => {
        const response = await fetcher(target, init);
        cacheControl = response.headers.get("cache-control");
        return response;
      },
      ...(ctx.config.allowPrivateIssuers ? { execute: [client.allowInsecureRequests] } : {}),
      timeout: 15,
    });
    metadata = configuration.serverMetadata();
  } catch (error) {
    // openid-client accepts a `{tenantid}` template only from Microsoft's origin; elsewhere
    // (GATEHOUSE_ALLOW_PRIVATE_ISSUERS) the parsed document it refused is checked below.
    const refused = templateDocument(error);
    if (!refused || !isEntraTemplateIssuer(issuer, refused.issuer, ctx.config.allowPrivateIssuers))
      throw describeDiscoveryError(issuer, error);
    metadata = refused;
  }
  if (
    metadata.issuer !== issuer &&
    !isEntraTemplateIssuer(issuer, metadata.issuer, ctx.config.allowPrivateIssuers)
  ) {
    throw issuerMismatch(issuer, metadata.issuer);
  }
  const missing = (["authorization_endpoint", "token_endpoint", "jwks_uri"] as const).filter(
    (k) => !metadata[k],
  );
  if (missing.length > 0) {
    throw new GatehouseError(
      "SSO_DISCOVERY_FAILED",
      `The issuer ${issuer} does not publish ${missing.join(", ")} in its discovery document.`,
      {
        detail: `discovery document lacks ${missing.join(", ")}`,
        fields: { issuer: `the discovery document has no ${missing.join(", ")}` },
      },
    );
  }
  // The two URLs browsers are sent to: https and on the issuer's own site (browser-endpoints.ts).
  for (const name of ["authorization_endpoint", "end_session_endpoint"] as const) {
    const endpoint = metadata[name];
    if (endpoint === undefined) continue;
    const refusal =
      typeof endpoint === "string"
        ? checkBrowserEndpoint(issuer, endpoint, ctx.config.allowPrivateIssuers)
        : "not_a_url";
    if (refusal) {
      const shown = JSON.stringify(endpoint).slice(0, 300);
      const why =
        refusal === "not_https"
          ? "is not an https URL"
          : refusal === "other_site"
            ? "is not on the issuer's own site"
            : "is not a URL";
      throw new GatehouseError(
        "SSO_DISCOVERY_FAILED",
        `The issuer ${issuer} names a ${name} that ${why}: Gatehouse sends browsers only to the issuer's own site.`,
        {
          detail: `discovery document ${name} ${shown} ${why} (issuer site ${new URL(issuer).hostname})`,
          fields: { issuer: `the discovery document's ${name} ${why}` },
        },
      );
    }
  }
  const responseTypes = metadata.response_types_supported;
  if (Array.isArray(responseTypes) && !responseTypes.includes("code")) {
    throw new GatehouseError(
      "SSO_DISCOVERY_FAILED",
      `The issuer ${issuer} does not support the authorization code flow.`,
      {
        detail: `response_types_supported is ${JSON.stringify(responseTypes)}`,
        fields: { issuer: 'does not support response type "code"' },
      },
    );
  }
  metadataCache.set(issuer, {
    metadata,
    fetchedAt: ctx.now(),
    maxAgeMs: cacheLifetimeMs(cacheControl, DISCOVERY_CACHE_BOUNDS),
  });
  return metadata;
}

/**
 * Entra ID's multi-tenant endpoints (`/common`, `/organizations`, `/consumers`) publish the
 * issuer as a template, `https://login.microsoftonline.com/{tenantid}/v2.0`, and each ID token
 * names its tenant in `tid`. The template is accepted for Microsoft's own origin only (any origin
 * with GATEHOUSE_ALLOW_PRIVATE_ISSUERS, where a provider of our own stands in for Entra ID in
 * tests), and only when it is the entered URL with one path segment replaced by `{tenantid}`.
 * A connection to such an issuer must list the tenants it accepts (src/domain/provider-claims.ts).
 */
export function isEntraTemplateIssuer(entered: string, published: unknown, anyOrigin = false): boolean {
  if (typeof published !== "string" || !published.includes("{tenantid}")) return false;
  let url: URL;
  try {
    url = new URL(entered);
  } catch {
    return false;
  }
  if (url.origin !== ENTRA_ORIGIN && !anyOrigin) return false;
  const segment = url.pathname.split("/")[1];
  return !!segment && published.replace("{tenantid}", segment) === entered;
}

function templateDocument(error: unknown): ServerMetadata | undefined {
  const e = error as { code?: string; cause?: { body?: unknown } };
  if (e.code !== "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED") return undefined;
  const body = e.cause?.body;
  return typeof body === "object" && body !== null && typeof (body as ServerMetadata).issuer === "string"
    ? (body as ServerMetadata)
    : undefined;
}

export function forgetIssuer(issuer: string): void {
  metadataCache.delete(issuer);
}

function issuerMismatch(entered: string, published: unknown): GatehouseError {
  const shown = typeof published === "string" ? published.slice(0, 300) : "(none)";
  return new GatehouseError(
    "SSO_ISSUER_MISMATCH",
    `The issuer's discovery document names its issuer "${shown}", not "${entered}". Enter the issuer exactly as the identity provider publishes it.`,
    {
      detail: `expected issuer ${entered}, discovery document says ${shown}`,
      fields: { issuer: `the provider calls itself "${shown}"; enter exactly that` },
    },
  );
}

function describeDiscoveryError(issuer: string, error: unknown): GatehouseError {
  const wellKnown = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const own = findGatehouseError(error);
  if (own) {
    return new GatehouseError(
      own.code === "SSO_ISSUER_NOT_ALLOWED" ? "SSO_ISSUER_NOT_ALLOWED" : "SSO_DISCOVERY_FAILED",
      own.message,
      {
        detail: own.detail,
        fields: { issuer: own.message },
        cause: error,
      },
    );
  }
  const e = error as { code?: string; cause?: unknown; message?: string };
  if (e.code === "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED") {
    const body = (e.cause as { body?: { issuer?: unknown } } | undefined)?.body;
    return issuerMismatch(issuer, body?.issuer);
  }
  let reason = "could not be read";
  let status: number | undefined;
  if (e.code === "OAUTH_RESPONSE_IS_NOT_CONFORM") {
    status = (e.cause as { status?: number } | undefined)?.status;
    reason = `answered HTTP ${status ?? "error"}`;
  } else if (e.code === "OAUTH_RESPONSE_IS_NOT_JSON" || e.code === "OAUTH_PARSE_ERROR") {
    reason = "is not a JSON document";
  } else if (e.code === "OAUTH_INVALID_RESPONSE") {
    reason = `is not a valid discovery document (${e.message ?? "invalid"})`;
  } else if (e.code === "OAUTH_TIMEOUT") {
    reason = "did not answer in time";
  }
  const message = `The issuer ${issuer} does not publish a usable /.well-known/openid-configuration: ${wellKnown} ${reason}.`;
  return new GatehouseError("SSO_DISCOVERY_FAILED", message, {
    detail: `discovery failed: ${e.code ?? "error"}: ${reason}`,
    fields: { issuer: `${wellKnown} ${reason}` },
    providerAnswer: status === undefined ? undefined : { status },
    cause: error,
  });
}
