import { GatehouseError, isGatehouseError, validationError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { idpFetch } from "../sso/oidc/discover.js";

/** One IdP's metadata is a few kilobytes; the SAML module refuses more than this too. */
export const MAX_METADATA_URL_BYTES = 512 * 1024;

/**
 * Downloads an IdP's metadata document for the admin, through the one outbound module (https
 * only unless GATEHOUSE_ALLOW_PRIVATE_ISSUERS, no private addresses, no redirects, timeouts,
 * a size cap). Whatever goes wrong is a field error on `metadataUrl` (400), never a 500:
 * the admin typed the URL, so the admin is told what to fix.
 */
export async function fetchIdpMetadataXml(ctx: AppContext, input: string): Promise<string> {
  const url = parseMetadataUrl(ctx, input);
  let response: Response;
  try {
    response = await idpFetch(ctx)(url.toString(), {
      headers: { accept: "application/samlmetadata+xml, application/xml, text/xml;q=0.9, */*;q=0.1" },
    });
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    throw refused(error.message, error.detail ?? error.code, error);
  }
  if (response.status !== 200) {
    throw refused(
      `${url.origin}${url.pathname} answered HTTP ${response.status}, not the metadata document.`,
      `metadata URL answered HTTP ${response.status}`,
    );
  }
  const body = await response.arrayBuffer();
  // The outbound module caps at its own limit; this one is the metadata's.
  if (body.byteLength > MAX_METADATA_URL_BYTES) {
    throw refused(
      `The metadata at ${url.origin} is larger than ${MAX_METADATA_URL_BYTES / 1024} KiB; paste the metadata of your identity provider alone.`,
      `metadata URL sent ${body.byteLength} bytes`,
    );
  }
  let xml: string;
  try {
    xml = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch (error) {
    throw refused("The metadata document is not UTF-8 text.", "metadata URL body is not UTF-8", error);
  }
  if (!xml.trim()) throw refused("The metadata URL answered an empty document.", "empty metadata body");
  return xml;
}

function parseMetadataUrl(ctx: AppContext, input: string): URL {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw validationError({
      metadataUrl: "Enter a URL such as https://acme.okta.com/app/…/sso/saml/metadata.",
    });
  }
  const insecureAllowed = ctx.config.allowPrivateIssuers && url.protocol === "http:";
  if (url.protocol !== "https:" && !insecureAllowed) {
    throw validationError({ metadataUrl: "The metadata URL must start with https://." });
  }
  if (url.username || url.password) {
    throw validationError({ metadataUrl: "Remove the user:password@ part from the metadata URL." });
  }
  return url;
}

function refused(message: string, detail: string, cause?: unknown): GatehouseError {
  return new GatehouseError("VALIDATION_FAILED", "The IdP metadata could not be downloaded.", {
    fields: { metadataUrl: message },
    detail,
    ...(cause === undefined ? {} : { cause }),
  });
}
