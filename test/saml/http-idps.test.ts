/**
 * The positive path over HTTP through two SAML IdPs Gatehouse's tests did not write: samlify's
 * IdentityProvider (npm) and Debian's pysaml2 with xmlsec1, each signed and encrypted. The IdP
 * reads Gatehouse's AuthnRequest from the redirect /sso/start answers with (samlify also
 * verifies its signature), reads the connection's SP metadata from its metadata URL, and posts
 * its own Response to the ACS URL; the person ends up signed in.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as samlify from "samlify";
import { generateSpKeyPair, type SpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { Browser } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";
import { addSamlConnection, beginSamlSignIn, postToAcs, signedInEmail } from "./http-support.js";

const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const PYTHON = "/usr/bin/python3";
const PYSAML2 = fileURLToPath(new URL("./pysaml2-idp.py", import.meta.url));
const pysaml2Available =
  existsSync("/usr/bin/xmlsec1") &&
  spawnSync(PYTHON, ["-c", "import saml2"], { stdio: "ignore" }).status === 0;
// CI installs python3-pysaml2 and xmlsec1, so there a missing package fails instead of skipping.
const skipPysaml2 =
  !pysaml2Available && !process.env.CI ? "python3-pysaml2 and xmlsec1 are not installed" : false;

samlify.setSchemaValidator({ validate: () => Promise.resolve("skipped") });

let gh: TestGatehouse;
let organizationId: string;
let idpKey: SpKeyPair;
let dir: string;

before(async () => {
  gh = await startGatehouse({
    env: {
      GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "100000",
      GATEHOUSE_SSO_STARTS_PER_IP_PER_10_MINUTES: "100000",
    },
  });
  ({ organizationId } = await seedAcme(gh));
  idpKey = await generateSpKeyPair({ commonName: "independent idp" });
  dir = await mkdtemp(join(tmpdir(), "gatehouse-saml-idps-"));
});
after(async () => {
  await gh.close();
  await rm(dir, { recursive: true, force: true });
});

/** The connection's SP metadata, as the IdP admin would download it from the metadata URL. */
async function spMetadata(metadataUrl: string): Promise<string> {
  const answer = await new Browser().get(metadataUrl);
  assert.equal(answer.status, 200);
  return answer.body;
}

describe("samlify as the identity provider, over HTTP", () => {
  for (const encrypted of [false, true]) {
    test(`a ${encrypted ? "signed and encrypted" : "signed"} assertion signs the person in`, async () => {
      const domain = encrypted ? "samlify-enc.acme.test" : "samlify.acme.test";
      const idp = samlify.IdentityProvider({
        entityID: `https://${domain}/metadata`,
        privateKey: idpKey.privateKeyPem,
        signingCert: idpKey.certificatePem,
        wantAuthnRequestsSigned: true,
        isAssertionEncrypted: encrypted,
        nameIDFormat: [EMAIL_FORMAT],
        singleSignOnService: [{ Binding: REDIRECT, Location: `https://${domain}/sso` }],
      });
      await verifyOrganizationDomain(domain);
      const connection = await addSamlConnection(gh, organizationId, {
        metadataXml: idp.getMetadata(),
        name: `samlify ${domain}`,
        domains: [domain],
      });
      const sp = samlify.ServiceProvider({ metadata: await spMetadata(connection.entityId) });

      const browser = new Browser();
      const email = `carol@${domain}`;
      const started = await beginSamlSignIn(browser, gh, email);
      const raw = started.url.search.slice(1).split("&");
      const octetString = ["SAMLRequest", "RelayState", "SigAlg"]
        .map((name) => raw.find((p) => p.startsWith(`${name}=`)))
        .filter(Boolean)
        .join("&");
      // samlify verifies the AuthnRequest's signature with the certificate from our metadata.
      const { extract } = await idp.parseLoginRequest(sp, "redirect", {
        query: Object.fromEntries(started.url.searchParams),
        octetString,
      });
      assert.equal(extract.request?.id, started.requestId);
      const { context } = await idp.createLoginResponse(sp, { extract }, "post", { email });
      assert.equal(/EncryptedAssertion/.test(Buffer.from(context, "base64").toString()), encrypted);
      const answer = await postToAcs(browser, connection.acsUrl, {
        SAMLResponse: context,
        RelayState: started.relayState,
      });
      assert.equal(answer.status, 303, answer.body.slice(0, 500));
      assert.equal(await signedInEmail(browser, gh), email);
    });
  }
});

describe("pysaml2 (Debian) as the identity provider, over HTTP", { skip: skipPysaml2 }, () => {
  let keys: { keyFile: string; certFile: string };
  before(async () => {
    if (skipPysaml2) return;
    keys = { keyFile: join(dir, "idp.key"), certFile: join(dir, "idp.crt") };
    await writeFile(keys.keyFile, idpKey.privateKeyPem, { mode: 0o600 });
    await writeFile(keys.certFile, idpKey.certificatePem);
  });

  for (const encrypt of [false, "aes256-cbc"] as const) {
    test(`a ${encrypt ? "signed and encrypted" : "signed"} assertion signs the person in`, async () => {
      const domain = encrypt ? "pysaml2-enc.acme.test" : "pysaml2.acme.test";
      await verifyOrganizationDomain(domain);
      const { metadata } = await pysaml2({ command: "metadata", ...keys });
      assert.ok(metadata);
      const connection = await addSamlConnection(gh, organizationId, {
        metadataXml: metadata,
        name: `pysaml2 ${domain}`,
        domains: [domain],
      });
      const browser = new Browser();
      const email = `dave@${domain}`;
      const started = await beginSamlSignIn(browser, gh, email);
      const { samlResponse } = await pysaml2({
        command: "respond",
        ...keys,
        spMetadata: await spMetadata(connection.entityId),
        samlRequest: started.url.searchParams.get("SAMLRequest"),
        encrypt,
        user: { email, name: "Dave Example", groups: ["staff"] },
      });
      assert.ok(samlResponse);
      assert.equal(
        /EncryptedAssertion/.test(Buffer.from(samlResponse, "base64").toString()),
        Boolean(encrypt),
      );
      const answer = await postToAcs(browser, connection.acsUrl, {
        SAMLResponse: samlResponse,
        RelayState: started.relayState,
      });
      assert.equal(answer.status, 303, answer.body.slice(0, 500));
      assert.equal(await signedInEmail(browser, gh), email);
    });
  }
});

async function verifyOrganizationDomain(domain: string): Promise<void> {
  const { verifyDomainsAsOperator } = await import("../support/domains.js");
  await verifyDomainsAsOperator(gh, organizationId, [domain]);
}

function pysaml2(request: Record<string, unknown>): Promise<{ metadata?: string; samlResponse?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [PYSAML2], { stdio: ["pipe", "pipe", "pipe"] });
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
