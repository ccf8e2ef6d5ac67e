/**
 * A LemonLDAP::NG portal (Debian's 2.16 packages) whose sign-in is delegated to Gatehouse: its
 * "OpenID Connect" authentication module with `userDB: Same`, each OpenID Provider declared as
 * the Manager's "OpenID Connect Providers" page does, with the discovery document and key set
 * fetched from Gatehouse when the portal starts. Run by test/support/lemonldap-portal.ts.
 * Beyond what docs/integrate-your-application.md asks of a deployment, lmConf.json turns on
 * `restSessionServer`, only so that the test can read the portal's session back.
 */
import { readFile } from "node:fs/promises";
import { type PortalConf, runLemonldapPortal } from "../../support/lemonldap-portal.js";

const FIXTURE = new URL("./lmConf.json", import.meta.url);

/** The fixture's provider: the Manager's defaults but for what docs/integrate-your-application.md names. */
const TEMPLATE = "gatehouse";

/** One OpenID Provider as the portal knows it: overrides of the fixture's `gatehouse` entry. */
export interface ProviderEntry {
  clientId: string;
  clientSecret: string;
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
  /** A key set other than the one Gatehouse publishes. */
  jwks?: { keys: Record<string, unknown>[] };
}

export interface LemonldapRelyingParty {
  url: string;
  /** The redirect URI the portal sends, the one to register at Gatehouse. */
  callbackUri: string;
  /** Where the portal asks Gatehouse to return after RP-initiated logout. */
  postLogoutRedirectUri: string;
  output(): string;
  close(): Promise<void>;
}

interface LmConf extends PortalConf {
  oidcOPMetaDataOptions: Record<string, Record<string, string | number>>;
  oidcOPMetaDataExportedVars: Record<string, Record<string, string>>;
}

/**
 * `providers` is called with the portal's redirect and post-logout URIs, so that the
 * applications can be registered at Gatehouse before the portal's configuration is written.
 */
export async function startLemonldapRelyingParty(
  issuer: string,
  providers: (portal: {
    url: string;
    callbackUri: string;
    postLogoutRedirectUri: string;
  }) => Promise<Record<string, ProviderEntry>>,
): Promise<LemonldapRelyingParty> {
  // The Manager stores the provider's metadata and keys as JSON text, fetched once when saved.
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).text();
  const { jwks_uri: jwksUri } = JSON.parse(discovery) as { jwks_uri: string };
  const jwks = await (await fetch(jwksUri)).text();
  const uris = (url: string) => ({
    // Lemonldap::NG::Portal::Lib::OpenIDConnect::getCallbackUri: `portal` + `?` + oidcRPCallbackGetParam.
    callbackUri: `${url}?openidconnectcallback=1`,
    // Auth::OpenIDConnect::authLogout: where it asks the provider to send the browser back.
    postLogoutRedirectUri: `${url}?logout=1`,
  });
  const portal = await runLemonldapPortal(async (url) => {
    const conf = JSON.parse(await readFile(FIXTURE, "utf8")) as LmConf;
    const template = conf.oidcOPMetaDataOptions[TEMPLATE];
    const exportedVars = conf.oidcOPMetaDataExportedVars[TEMPLATE];
    if (!template || !exportedVars) throw new Error(`lmConf.json has no provider ${TEMPLATE}`);
    const json: Record<string, string> = {};
    const keys: Record<string, string> = {};
    const entries = await providers({ url, ...uris(url) });
    if (!(TEMPLATE in entries)) throw new Error(`no entry for the provider ${TEMPLATE}`);
    for (const [key, entry] of Object.entries(entries)) {
      conf.oidcOPMetaDataOptions[key] = {
        ...template,
        oidcOPMetaDataOptionsDisplayName: key,
        oidcOPMetaDataOptionsClientID: entry.clientId,
        oidcOPMetaDataOptionsClientSecret: entry.clientSecret,
        ...(entry.tokenEndpointAuthMethod
          ? { oidcOPMetaDataOptionsTokenEndpointAuthMethod: entry.tokenEndpointAuthMethod }
          : {}),
      };
      conf.oidcOPMetaDataExportedVars[key] = exportedVars;
      json[key] = discovery;
      keys[key] = entry.jwks ? JSON.stringify(entry.jwks) : jwks;
    }
    return { ...conf, oidcOPMetaDataJSON: json, oidcOPMetaDataJWKS: keys };
  });
  return { url: portal.url, ...uris(portal.url), output: portal.output, close: portal.close };
}
