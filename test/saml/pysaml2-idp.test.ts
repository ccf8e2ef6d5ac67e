/**
 * The positive path against Debian's python3-pysaml2 as the IdP (the library behind SATOSA,
 * signing and encrypting through xmlsec1, the same C library Shibboleth's and many appliances'
 * stacks sit on). CI installs it (.ci/run); elsewhere the test skips when it is missing.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildAuthnRequest } from "../../src/sso/saml/authn-request.js";
import { isSamlCheckError } from "../../src/sso/saml/checks.js";
import {
  generateSpMetadata,
  type ServiceProvider,
  serviceProviderUrls,
} from "../../src/sso/saml/service-provider.js";
import { type SamlSettings, validateSamlSettings } from "../../src/sso/saml/settings.js";
import { generateSpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { validateSamlResponse } from "../../src/sso/saml/validate-response.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./pysaml2-idp.py", import.meta.url));
const available =
  existsSync("/usr/bin/xmlsec1") &&
  spawnSync(PYTHON, ["-c", "import saml2"], { stdio: "ignore" }).status === 0;
// CI installs python3-pysaml2 and xmlsec1, so there a missing package fails instead of skipping.
const skip = !available && !process.env.CI ? "python3-pysaml2 and xmlsec1 are not installed" : false;

let dir: string;
let keys: { keyFile: string; certFile: string };
let sp: ServiceProvider;
let settings: SamlSettings;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "gatehouse-pysaml2-"));
  const idpKey = await generateSpKeyPair({ commonName: "pysaml2 idp" });
  keys = { keyFile: join(dir, "idp.key"), certFile: join(dir, "idp.crt") };
  await writeFile(keys.keyFile, idpKey.privateKeyPem, { mode: 0o600 });
  await writeFile(keys.certFile, idpKey.certificatePem);
  sp = {
    ...serviceProviderUrls("https://gatehouse.test", "conn_pysaml2"),
    keyPair: await generateSpKeyPair({ commonName: "gatehouse sp" }),
  };
  const { metadata } = await pysaml2({ command: "metadata", ...keys });
  // eduPersonAffiliation stands in for a group attribute configured by the admin.
  settings = validateSamlSettings({
    metadataXml: metadata,
    groupsAttribute: "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
  });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("pysaml2 (Debian) as the identity provider", { skip }, () => {
  for (const encrypt of [false, "aes256-cbc"] as const) {
    test(`a ${encrypt ? "signed and encrypted" : "signed"} assertion signs the user in`, async () => {
      assert.equal(settings.idp.entityId, "https://pysaml2-idp.test/metadata");
      const { start, samlResponse } = await respond(encrypt);
      const xml = Buffer.from(samlResponse ?? "", "base64").toString("utf8");
      assert.equal(/EncryptedAssertion/.test(xml), Boolean(encrypt));
      const assertion = await validateSamlResponse({
        samlResponse,
        settings,
        sp,
        requestIds: new Set([start.requestId]),
        rememberAssertionId: () => true,
      });
      assert.equal(assertion.email, "alice@acme.test");
      assert.equal(assertion.subject, "alice@acme.test");
      assert.equal(assertion.name, "Alice Example");
      assert.deepEqual(assertion.groups.sort(), ["member", "staff"]);
      assert.equal(assertion.inResponseTo, start.requestId);
      assert.ok(assertion.sessionIndex, "pysaml2 sends a SessionIndex for single logout");
    });
  }

  test("pysaml2's default 3DES encryption is refused, naming the algorithm", async () => {
    const { start, samlResponse } = await respond("pysaml2-default");
    await assert.rejects(
      validateSamlResponse({
        samlResponse,
        settings,
        sp,
        requestIds: new Set([start.requestId]),
        rememberAssertionId: () => true,
      }),
      (error: unknown) =>
        isSamlCheckError(error) &&
        error.check === "encryption-algorithm" &&
        error.received === "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
    );
  });
});

async function respond(encrypt: false | "aes256-cbc" | "pysaml2-default") {
  const start = await buildAuthnRequest({ settings, sp, relayState: "tx_pysaml2" });
  const samlRequest = new URL(start.url).searchParams.get("SAMLRequest");
  const { samlResponse } = await pysaml2({
    command: "respond",
    ...keys,
    spMetadata: generateSpMetadata(sp),
    samlRequest,
    encrypt,
    user: { email: "alice@acme.test", name: "Alice Example", groups: ["staff", "member"] },
  });
  return { start, samlResponse };
}

function pysaml2(request: Record<string, unknown>): Promise<{ metadata?: string; samlResponse?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`pysaml2 exited ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(out) as { metadata?: string; samlResponse?: string });
    });
    child.stdin.end(JSON.stringify(request));
  });
}
