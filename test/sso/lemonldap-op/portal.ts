/**
 * A LemonLDAP::NG portal (Debian's liblemonldap-ng-portal-perl) as an OpenID Provider, run as
 * its own PSGI application under `plackup` on a free loopback port: the same
 * `Lemonldap::NG::Portal::Main` that Debian's FastCGI server and Apache front run, without a
 * system web server. Its configuration lives in a temporary folder, found through
 * `LLNG_DEFAULTCONFFILE`, so nothing under /etc or /var/lib is read or written.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../support/gatehouse.js";

const PLACKUP = "/usr/bin/plackup";
const PORTAL_PSGI = "/usr/share/lemonldap-ng/portal/htdocs/index.psgi";
const FIXTURE = new URL("./lmConf.json", import.meta.url);

/**
 * The portal's modules and the ones it loads at start-up whatever the configuration (the
 * captcha through GD::SecurityImage with ImageMagick, the OpenID Connect issuer's
 * String::Random and IO::String): Debian lists the last four as recommendations only.
 */
export const PORTAL_PACKAGES = [
  "liblemonldap-ng-portal-perl",
  "libplack-perl",
  "libgd-securityimage-perl",
  "libimage-magick-perl",
  "libstring-random-perl",
  "libio-string-perl",
] as const;

export function portalAvailable(): boolean {
  if (!existsSync(PLACKUP) || !existsSync(PORTAL_PSGI)) return false;
  const modules = [
    "Lemonldap::NG::Portal::Main",
    "GD::SecurityImage",
    "Image::Magick",
    "String::Random",
    "IO::String",
  ];
  return spawnSync("perl", [...modules.map((m) => `-M${m}`), "-e1"], { stdio: "ignore" }).status === 0;
}

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

interface LmConf {
  cfgNum: number;
  oidcRPMetaDataOptions: Record<string, Record<string, string | number>>;
  [setting: string]: unknown;
}

export async function startLemonldapPortal(options: {
  redirectUri: string;
  postLogoutRedirectUri: string;
}): Promise<LemonldapPortal> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-lemonldap-"));
  for (const sub of ["conf", "sessions/lock", "psessions/lock", "cache"]) {
    await mkdir(join(dir, sub), { recursive: true });
  }
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/`;
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
  Object.assign(conf, {
    portal: issuer,
    // The SSO cookie's domain: the portal's own host here, the company's domain in production.
    domain: "127.0.0.1",
    oidcServicePrivateKeySig: privateKey,
    oidcServicePublicKeySig: publicKey,
    globalStorage: "Apache::Session::File",
    globalStorageOptions: {
      Directory: join(dir, "sessions"),
      LockDirectory: join(dir, "sessions/lock"),
      generateModule: "Lemonldap::NG::Common::Apache::Session::Generate::SHA256",
    },
    persistentStorage: "Apache::Session::File",
    persistentStorageOptions: {
      Directory: join(dir, "psessions"),
      LockDirectory: join(dir, "psessions/lock"),
    },
    localSessionStorage: "Cache::FileCache",
    localSessionStorageOptions: { cache_root: join(dir, "cache"), namespace: "lemonldap-ng-sessions" },
    // Every configuration the Manager saves (and Debian's first one) has access rules per virtual
    // host; without any, the handler reads the built-in default `{default: deny}` as a host's
    // rules and the portal does not start.
    locationRules: {},
  });
  for (const client of Object.values(clients)) {
    const rp = conf.oidcRPMetaDataOptions[client.key];
    if (!rp) throw new Error(`lmConf.json has no relying party ${client.key}`);
    rp.oidcRPMetaDataOptionsClientSecret = client.clientSecret;
    rp.oidcRPMetaDataOptionsRedirectUris = options.redirectUri;
    rp.oidcRPMetaDataOptionsPostLogoutRedirectUris = options.postLogoutRedirectUri;
  }
  const writeConf = () => writeFile(join(dir, "conf", `lmConf-${conf.cfgNum}.json`), JSON.stringify(conf));
  await writeConf();
  const ini = join(dir, "lemonldap-ng.ini");
  // checkTime: how often, in seconds, the portal looks for a newer configuration (600 by default).
  await writeFile(
    ini,
    [
      "[all]",
      "logLevel = warn",
      "checkTime = 1",
      "[configuration]",
      "type = File",
      `dirName = ${join(dir, "conf")}`,
      "[portal]",
      "templateDir = /usr/share/lemonldap-ng/portal/templates",
      "languages = en",
      "",
    ].join("\n"),
  );

  const child = spawn(
    PLACKUP,
    ["-s", "HTTP::Server::PSGI", "--host", "127.0.0.1", "--port", String(port), PORTAL_PSGI],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LLNG_DEFAULTCONFFILE: ini },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const close = async () => {
    await stop(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null)
        throw new Error(`plackup exited ${child.exitCode}: ${output.slice(-2000)}`);
      const answer = await fetch(`${issuer}.well-known/openid-configuration`).catch(() => undefined);
      return answer?.status === 200;
    }, "the portal's discovery document");
  } catch (error) {
    await close();
    throw error;
  }

  return {
    issuer,
    clients,
    output: () => output,
    async rotateSecret(key, secret) {
      const rp = conf.oidcRPMetaDataOptions[key];
      if (!rp) throw new Error(`no relying party ${key}`);
      rp.oidcRPMetaDataOptionsClientSecret = secret;
      conf.cfgNum += 1;
      await writeConf();
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
    close,
  };
}

async function waitFor(ready: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
