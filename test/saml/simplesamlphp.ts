/**
 * Debian's SimpleSAMLphp as a SAML IdP under PHP's built-in web server, for
 * simplesamlphp-idp.test.ts. Its configuration is read in place from ./simplesamlphp/ (the
 * people who sign in are in authsources.php); what changes per run lives in a temporary folder:
 * the IdP's key pair, the SP metadata it trusts, its sessions and logs.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSpKeyPair, type SpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { freePort } from "../support/gatehouse.js";

const DOCROOT = "/usr/share/simplesamlphp/www";
const CONFIG_DIR = fileURLToPath(new URL("./simplesamlphp/", import.meta.url));

/** Why the IdP cannot run here, or undefined when it can. */
export function simpleSamlPhpMissing(): string | undefined {
  if (!existsSync(join(DOCROOT, "saml2/idp/SSOService.php"))) return "simplesamlphp is not installed";
  // Debian's simplesamlphp does not depend on php-xml, without which it cannot build a message.
  const php = spawnSync("php", ["-r", "exit(extension_loaded('dom') ? 0 : 1);"], { stdio: "ignore" });
  if (php.status !== 0) return "php-cli with php-xml is not installed";
  return undefined;
}

export interface SimpleSamlPhp {
  baseUrl: string;
  /** The IdP's metadata URL, which is also its entity ID. */
  metadataUrl: string;
  /** The IdP's signing key pair, as it signs now. */
  key: SpKeyPair;
  /** Trusts an SP from its metadata XML; `options` are SimpleSAMLphp settings for that SP. */
  trustServiceProvider(name: string, metadataXml: string, options?: Record<string, unknown>): Promise<void>;
  /** A new signing key pair, used from the next request on. */
  rotateSigningKey(): Promise<SpKeyPair>;
  /** Puts back a key pair. */
  useSigningKey(key: SpKeyPair): Promise<void>;
  /** The end of the IdP's log, for failure messages. */
  logTail(): Promise<string>;
  close(): Promise<void>;
}

export async function startSimpleSamlPhp(): Promise<SimpleSamlPhp> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-simplesamlphp-"));
  for (const sub of ["log", "data", "tmp", "sessions", "sp-metadata"]) await mkdir(join(dir, sub));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/`;
  const writeKey = async (key: SpKeyPair) => {
    await writeFile(join(dir, "idp.key"), key.privateKeyPem, { mode: 0o600 });
    await writeFile(join(dir, "idp.crt"), key.certificatePem);
  };
  let key = await generateSpKeyPair({ commonName: "simplesamlphp idp" });
  await writeKey(key);

  let output = "";
  const child: ChildProcess = spawn("php", ["-S", `127.0.0.1:${port}`, "-t", DOCROOT], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      SIMPLESAMLPHP_CONFIG_DIR: CONFIG_DIR,
      GATEHOUSE_SSP_DIR: dir,
      GATEHOUSE_SSP_BASE_URL: baseUrl,
      GATEHOUSE_SSP_SECRET_SALT: randomBytes(24).toString("hex"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let ended: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      ended = `php exited (${signal ?? code})`;
      resolve();
    });
    child.once("error", (error) => {
      ended = `php did not start: ${error.message}`;
      resolve();
    });
  });

  const close = async () => {
    if (ended === undefined) {
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const metadataUrl = `${baseUrl}saml2/idp/metadata.php`;
  try {
    await waitUntilServing(
      metadataUrl,
      () => ended,
      () => output,
    );
  } catch (error) {
    await close();
    throw error;
  }

  return {
    baseUrl,
    metadataUrl,
    get key() {
      return key;
    },
    async trustServiceProvider(name, metadataXml, options = {}) {
      await writeFile(join(dir, "sp-metadata", `${name}.xml`), metadataXml);
      await writeFile(join(dir, "sp-metadata", `${name}.json`), JSON.stringify(options));
    },
    async rotateSigningKey() {
      key = await generateSpKeyPair({ commonName: "simplesamlphp idp, rotated" });
      await writeKey(key);
      return key;
    },
    async useSigningKey(next) {
      key = next;
      await writeKey(next);
    },
    async logTail() {
      const log = await readFile(join(dir, "log", "simplesamlphp.log"), "utf8").catch(() => "");
      return `${log.slice(-4000)}\n${output.slice(-2000)}`;
    },
    close,
  };
}

async function waitUntilServing(
  url: string,
  ended: () => string | undefined,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = "";
  while (Date.now() < deadline && ended() === undefined) {
    try {
      const answer = await fetch(url);
      const body = await answer.text();
      if (answer.status === 200 && body.includes("IDPSSODescriptor")) return;
      last = `${answer.status}: ${body.slice(0, 500)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`SimpleSAMLphp did not serve its metadata at ${url}: ${ended() ?? last}\n${output()}`);
}

/** The fields of an HTML form: its action (resolved against the page) and every input's value. */
export function readForm(html: string, pageUrl: string): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*>/i.exec(html)?.[0];
  assert.ok(form, `a form in the page: ${html.slice(0, 500)}`);
  const action = attributeOf(form, "action") ?? "";
  const fields: Record<string, string> = {};
  for (const [input] of html.matchAll(/<input\b[^>]*>/gi)) {
    const name = attributeOf(input, "name");
    if (name) fields[name] = attributeOf(input, "value") ?? "";
  }
  return { action: new URL(action, pageUrl).toString(), fields };
}

function attributeOf(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "i").exec(tag);
  const raw = match?.[1] ?? match?.[2];
  return raw === undefined ? undefined : decodeEntities(raw);
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|quot|apos|lt|gt|amp);/gi, (_, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return { quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" }[lower] ?? "";
  });
}
