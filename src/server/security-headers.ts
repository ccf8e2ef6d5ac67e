import type { IncomingMessage, ServerResponse } from "node:http";
import helmet from "helmet";
import { type Config, isSecureBaseUrl } from "../config.js";

/**
 * The security headers every answer carries, computed once by helmet at start-up: they are
 * static (no nonces: there is no inline script or style to allow), so building helmet's
 * middleware and parsing the policy again for each request would be wasted work.
 */
export function securityHeaders(config: Pick<Config, "baseUrl">): Record<string, string> {
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        // No form-action: sign-in forms legitimately redirect to the customer's IdP.
      },
    },
    strictTransportSecurity: isSecureBaseUrl(config) ? { maxAge: 31536000, includeSubDomains: false } : false,
    referrerPolicy: { policy: "no-referrer" },
    crossOriginEmbedderPolicy: false,
  });
  const headers: Record<string, string> = {};
  const collector = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let done = false;
  middleware({} as IncomingMessage, collector as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error("helmet did not produce the security headers synchronously");
  return headers;
}

/**
 * The headers of the JSON API's answers (`/api/`), derived from the pages' own. A JSON document
 * is never rendered, so what matters is that nothing loads, frames or sniffs it as a page, that
 * no other origin's page reads it, and that no cache keeps it; the pages' sources, COOP,
 * Origin-Agent-Cluster and the switches for retired browsers do not apply. Every header is
 * checked and written on every answer, and the session check is the hottest route.
 */
export function apiSecurityHeaders(pageHeaders: Readonly<Record<string, string>>): Record<string, string> {
  const hsts = pageHeaders["strict-transport-security"];
  return {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cross-origin-resource-policy": "same-origin",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    // Answers describe one organization's configuration and people: no cache may keep them.
    "cache-control": "no-store",
    ...(hsts === undefined ? {} : { "strict-transport-security": hsts }),
  };
}
