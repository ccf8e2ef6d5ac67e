/**
 * What an application may register as a redirect URI, by kind of application. Pure rules; the
 * matching at sign-in is oidc-provider's (exact, except a native application's loopback port).
 */

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
/** RFC 8252 7.3: the loopback IP literals; 8.3: `localhost` is NOT RECOMMENDED. */
const LOOPBACK_IP_LITERALS = new Set(["127.0.0.1", "[::1]"]);
/** A label of a domain name, as a URI scheme may spell it (RFC 3986 3.1 allows no `_`). */
const SCHEME_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/**
 * Schemes that browsers or operating systems already give a meaning to, also as the first label
 * of a dotted scheme (`http.example:`), which reads like a web URL to a person and to lax parsers.
 */
const RESERVED_SCHEME_LABELS = new Set([
  "http",
  "https",
  "ws",
  "wss",
  "ftp",
  "file",
  "data",
  "blob",
  "about",
  "javascript",
  "vbscript",
  "mailto",
  "intent",
]);

function parse(value: string): URL | string {
  try {
    return new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
}

/** No fragment (OAuth 2.0 3.1.2), no credentials. */
function commonProblem(value: string, url: URL): string | undefined {
  if (url.hash || value.includes("#")) return `"${value}" must not have a fragment`;
  if (url.username || url.password) return `"${value}" must not carry credentials`;
  return undefined;
}

/**
 * A web application's URI (and every application's back-channel logout and key set URI): an
 * absolute https URL, or plain http on a loopback host, where a developer runs the application.
 * Compared exactly at sign-in.
 */
export function uriProblem(value: string): string | undefined {
  const url = parse(value);
  if (typeof url === "string") return url;
  const common = commonProblem(value, url);
  if (common) return common;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `"${value}" must be https (http only for localhost)`;
}

/**
 * A private-use URI scheme in reverse-domain form (RFC 8252 7.1): `com.example.app`, a domain
 * the application's publisher controls, so that two apps do not claim the same scheme. A
 * one-label scheme (`myapp`, `javascript`, `data`, `file`) is refused, as is one that starts
 * with a scheme the platform already handles.
 */
function privateSchemeProblem(value: string, scheme: string): string | undefined {
  const labels = scheme.split(".");
  const wellFormed = labels.length >= 2 && labels.every((label) => SCHEME_LABEL.test(label));
  if (!wellFormed || RESERVED_SCHEME_LABELS.has(labels[0] ?? "")) {
    return `"${value}" must use a private-use scheme in reverse-domain form, such as com.example.app:/callback`;
  }
  return undefined;
}

/**
 * A native application's redirect URI (RFC 8252): http on a loopback IP literal, any port at
 * sign-in (7.3); a private-use scheme in reverse-domain form (7.1); or a claimed https URI (7.2).
 */
export function nativeRedirectUriProblem(value: string): string | undefined {
  const url = parse(value);
  if (typeof url === "string") return url;
  const common = commonProblem(value, url);
  if (common) return common;
  switch (url.protocol) {
    case "http:":
      if (LOOPBACK_IP_LITERALS.has(url.hostname)) return undefined;
      if (url.hostname === "localhost") {
        return `"${value}" must use the loopback IP literal http://127.0.0.1 or http://[::1], not localhost (RFC 8252 8.3)`;
      }
      return `"${value}" must be http only on a loopback IP literal (127.0.0.1 or [::1])`;
    case "https:":
      // A claimed https URI is a real host; oidc-provider refuses a loopback one for native apps.
      if (LOOPBACK_HOSTS.has(url.hostname)) {
        return `"${value}" must be http on a loopback IP literal, or https on the application's own domain`;
      }
      return undefined;
    default:
      return privateSchemeProblem(value, url.protocol.slice(0, -1));
  }
}
