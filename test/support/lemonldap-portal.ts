/**
 * A LemonLDAP::NG portal (Debian's liblemonldap-ng-portal-perl) run as its own PSGI application
 * under `plackup` on a free loopback port: the same `Lemonldap::NG::Portal::Main` that Debian's
 * FastCGI server and Apache front run, without a system web server. Its configuration lives in
 * a temporary folder, found through `LLNG_DEFAULTCONFFILE`, so nothing under /etc or /var/lib
 * is read or written. What the portal does (OpenID Provider, relying party, ...) is up to the
 * configuration the caller passes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./gatehouse.js";

const PLACKUP = "/usr/bin/plackup";
const PORTAL_PSGI = "/usr/share/lemonldap-ng/portal/htdocs/index.psgi";

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

/** Whether the portal can run here, with `extraModules` (Perl module names) loadable as well. */
export function portalAvailable(extraModules: readonly string[] = []): boolean {
  if (!existsSync(PLACKUP) || !existsSync(PORTAL_PSGI)) return false;
  const modules = [
    "Lemonldap::NG::Portal::Main",
    "GD::SecurityImage",
    "Image::Magick",
    "String::Random",
    "IO::String",
    ...extraModules,
  ];
  return spawnSync("perl", [...modules.map((m) => `-M${m}`), "-e1"], { stdio: "ignore" }).status === 0;
}

/** A portal configuration (lmConf-<cfgNum>.json); `portal` and the storage settings are filled in. */
export interface PortalConf {
  cfgNum: number;
  [setting: string]: unknown;
}

export interface RunningPortal {
  /** The portal's URL, with its trailing slash, as LemonLDAP::NG writes `portal`. */
  url: string;
  /** The end of what the portal wrote to stdout and stderr, for a failing assertion's message. */
  output(): string;
  /** Where the portal's output stands now, for `outputSince`. */
  outputMark(): number;
  /**
   * Everything the portal wrote since `mark`, once it contains `until`: the portal writes to
   * its pipes after it has answered.
   */
  outputSince(mark: number, until: RegExp): Promise<string>;
  /** Saves a configuration as the Manager does: a new cfgNum, picked up within about a second. */
  saveConf(conf: PortalConf): Promise<void>;
  /**
   * Resolves once the portal has loaded configuration `cfgNum`, asking it for pages meanwhile
   * (it looks for a newer configuration when a request comes). Needs `logLevel: "info"`, at
   * which the portal says so.
   */
  confLoaded(cfgNum: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a portal. `configure` receives the portal's URL before anything is written, since
 * most settings (an issuer, a redirect URI) derive from it; `ready` says when it answers.
 */
export async function runLemonldapPortal(
  configure: (url: string) => PortalConf | Promise<PortalConf>,
  ready: (url: string) => Promise<boolean> = async (url) =>
    (await fetch(url, { redirect: "manual" }).catch(() => undefined)) !== undefined,
  options: { logLevel?: "warn" | "info" } = {},
): Promise<RunningPortal> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-lemonldap-"));
  for (const sub of ["conf", "sessions/lock", "psessions/lock", "cache"]) {
    await mkdir(join(dir, sub), { recursive: true });
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const storage = {
    portal: url,
    // The SSO cookie's domain: the portal's own host here, the company's domain in production.
    domain: "127.0.0.1",
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
  };
  const saveConf = (conf: PortalConf) =>
    writeFile(join(dir, "conf", `lmConf-${conf.cfgNum}.json`), JSON.stringify({ ...conf, ...storage }));
  await saveConf(await configure(url));
  const ini = join(dir, "lemonldap-ng.ini");
  // checkTime: how often, in seconds, the portal looks for a newer configuration (600 by default).
  await writeFile(
    ini,
    [
      "[all]",
      `logLevel = ${options.logLevel ?? "warn"}`,
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
  // Kept whole, a few hundred kilobytes at most: outputSince reads from the middle.
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const close = async () => {
    await stop(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  const alive = () => {
    if (child.exitCode !== null) throw new Error(`plackup exited ${child.exitCode}: ${output.slice(-2000)}`);
  };
  try {
    await waitFor(async () => {
      alive();
      return ready(url);
    }, "the portal to answer");
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url,
    output: () => output.slice(-20_000),
    outputMark: () => output.length,
    async outputSince(mark, until) {
      await waitFor(async () => until.test(output.slice(mark)), `${until} in the portal's output`, 5_000);
      return output.slice(mark);
    },
    saveConf,
    async confLoaded(cfgNum) {
      const loaded = `Loading configuration ${cfgNum} for process`;
      await waitFor(async () => {
        alive();
        if (output.includes(loaded)) return true;
        await fetch(url, { redirect: "manual" }).then((answer) => answer.arrayBuffer());
        return output.includes(loaded);
      }, `the portal to load configuration ${cfgNum}`);
    },
    close,
  };
}

export async function waitFor(
  ready: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
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
