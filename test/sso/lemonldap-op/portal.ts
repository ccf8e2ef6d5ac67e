/**
 * A LemonLDAP::NG portal (Debian's liblemonldap-ng-portal-perl) as an OpenID Provider, run by
 * test/support/lemonldap-portal.ts: under `plackup` on a free loopback port, its configuration
 * in a temporary folder.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type PortalConf, runLemonldapPortal, waitFor } from "../../support/lemonldap-portal.js";

export { PORTAL_PACKAGES, portalAvailable } from "../../support/lemonldap-portal.js";

const FIXTURE = new URL("./lmConf.json", import.meta.url);

/** A relying party registered at the portal: the `gatehouse` one signs ID tokens with RS256. */
export interface PortalClient {
  key: "gatehouse" | "gatehouse-hs512";
  clientId: string;
  clientSecret: string;
}

export interface LemonldapPortal {
  /** The portal URL, which LemonLDAP::NG publishes as its issuer: with its trailing slash. */
  issuer: string;
  clients: Record<PortalClient["key"], PortalClient>;
  /** What the portal wrote to stdout and stderr, for a failing assertion's message. */
  output(): string;
  /** The portal's admin gives a client a new secret: a new configuration, as the Manager saves one. */
  rotateSecret(key: PortalClient["key"], secret: string): Promise<void>;
  close(): Promise<void>;
}

interface LmConf extends PortalConf {
  oidcRPMetaDataOptions: Record<string, Record<string, string | number>>;
}

export async function startLemonldapPortal(options: {
  redirectUri: string;
  postLogoutRedirectUri: string;
}): Promise<LemonldapPortal> {
  const clients: LemonldapPortal["clients"] = {
    gatehouse: { key: "gatehouse", clientId: "gatehouse", clientSecret: "gatehouse-lemonldap-secret" },
    "gatehouse-hs512": {
      key: "gatehouse-hs512",
      clientId: "gatehouse-hs512",
      clientSecret: "gatehouse-lemonldap-hs512-secret",
    },
  };
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });

  const conf = JSON.parse(await readFile(FIXTURE, "utf8")) as LmConf;
  Object.assign(conf, { oidcServicePrivateKeySig: privateKey, oidcServicePublicKeySig: publicKey });
  for (const client of Object.values(clients)) {
    const rp = conf.oidcRPMetaDataOptions[client.key];
    if (!rp) throw new Error(`lmConf.json has no relying party ${client.key}`);
    rp.oidcRPMetaDataOptionsClientSecret = client.clientSecret;
    rp.oidcRPMetaDataOptionsRedirectUris = options.redirectUri;
    rp.oidcRPMetaDataOptionsPostLogoutRedirectUris = options.postLogoutRedirectUri;
  }
  const portal = await runLemonldapPortal(
    () => conf,
    async (url) => {
      const answer = await fetch(`${url}.well-known/openid-configuration`).catch(() => undefined);
      return answer?.status === 200;
    },
  );
  const issuer = portal.url;

  return {
    issuer,
    clients,
    output: portal.output,
    async rotateSecret(key, secret) {
      const rp = conf.oidcRPMetaDataOptions[key];
      if (!rp) throw new Error(`no relying party ${key}`);
      rp.oidcRPMetaDataOptionsClientSecret = secret;
      conf.cfgNum += 1;
      await portal.saveConf(conf);
      clients[key].clientSecret = secret;
      // The portal has loaded the new configuration once its token endpoint accepts the new secret.
      await waitFor(async () => {
        const answer = await fetch(`${issuer}oauth2/token`, {
          method: "POST",
          body: new URLSearchParams({
            grant_type: "authorization_code",
            code: "configuration-reload-check",
            client_id: key,
            client_secret: secret,
            redirect_uri: options.redirectUri,
          }),
        });
        return ((await answer.json()) as { error?: string }).error === "invalid_grant";
      }, "the portal to load the new configuration");
    },
    close: portal.close,
  };
}
