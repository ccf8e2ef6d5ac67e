/**
 * SAML connections through the JSON API (on SQLite, and on PostgreSQL with
 * GATEHOUSE_TEST_DATABASE=postgres): created from a metadata URL, pasted metadata or settings by
 * hand; every bad input refused with a 4xx and a message per field, writing nothing; read,
 * edited (audited with the changed fields, never a key), disabled, enabled and deleted.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { createApiKey } from "../../src/api/keys.js";
import type { SamlConnectionView } from "../../src/connections/view.js";
import { generateSpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { listConnections } from "../../src/store/connections.js";
import { createTestIdp, type TestIdp } from "../saml/hostile-idp.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

let gh: TestGatehouse;
let key: string;
let organizationId: string;
let idp: TestIdp;
let server: Server;
let metadataBase: string;

before(async () => {
  gh = await startGatehouse();
  ({
    organization: { id: organizationId },
  } = await createOrganizationWithAdmin(gh.ctx, {
    slug: "acme",
    name: "Acme",
    adminEmail: "admin@acme.test",
    adminPassword: "correct horse battery",
  }));
  key = (await createApiKey(gh.ctx, "acme", "saml")).key;
  idp = await createTestIdp();
  server = createServer((request, response) => {
    if (request.url === "/metadata") return response.end(idp.metadataXml());
    if (request.url === "/huge") return response.end(`<x>${"a".repeat(600 * 1024)}</x>`);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  metadataBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await gh?.close();
});

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${gh.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const samlBody = (extra: Record<string, unknown>) => ({
  type: "saml",
  name: "Acme ADFS",
  domains: ["acme.test"],
  ...extra,
});

describe("refused SAML connections: 4xx, a message per field, nothing written", () => {
  const cases: Array<[string, () => Promise<Record<string, unknown>>, number, string, RegExp]> = [
    [
      "metadata that is not SAML metadata",
      async () => samlBody({ metadataXml: "<html><body>Sign in</body></html>" }),
      400,
      "metadataXml",
      /not SAML 2.0 metadata/,
    ],
    [
      "metadata with a DOCTYPE",
      async () => samlBody({ metadataXml: `<!DOCTYPE x [<!ENTITY a "b">]>${idp.metadataXml()}` }),
      400,
      "metadataXml",
      /not accepted/,
    ],
    [
      "metadata declaring SHA-1-only signing",
      async () =>
        samlBody({
          metadataXml: idp
            .metadataXml()
            .replace(
              "<md:IDPSSODescriptor",
              '<md:Extensions><alg:SigningMethod xmlns:alg="urn:oasis:names:tc:SAML:metadata:algsupport" Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/></md:Extensions><md:IDPSSODescriptor',
            ),
        }),
      400,
      "metadataXml",
      /SHA-1/,
    ],
    [
      "a signing certificate with a 1024-bit key",
      async () => {
        const weak = await generateSpKeyPair({ commonName: "weak", modulusLength: 1024 });
        return samlBody({ entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [weak.certificatePem] });
      },
      400,
      "certificates",
      /2048 bits/,
    ],
    [
      "settings by hand without a certificate",
      async () => samlBody({ entityId: idp.entityId, ssoUrl: idp.ssoUrl }),
      400,
      "certificates",
      /certificate/,
    ],
    [
      "an http metadata URL where only https is allowed",
      async () => samlBody({ metadataUrl: "http://idp.example.com/metadata" }),
      400,
      "metadataUrl",
      /must start with https/,
    ],
    [
      "an oversized metadata document",
      async () => samlBody({ metadataUrl: `${metadataBase}/huge` }),
      400,
      "metadataUrl",
      /larger than 512 KiB/,
    ],
    [
      "an unreachable metadata URL",
      async () => samlBody({ metadataUrl: `http://127.0.0.1:${await freePort()}/metadata` }),
      400,
      "metadataUrl",
      /refused the connection/,
    ],
    [
      "a metadata URL answering 404",
      async () => samlBody({ metadataUrl: `${metadataBase}/nothing` }),
      400,
      "metadataUrl",
      /HTTP 404/,
    ],
    [
      "two sources of IdP settings at once",
      async () => samlBody({ metadataXml: idp.metadataXml(), metadataUrl: `${metadataBase}/metadata` }),
      400,
      "metadataUrl",
      /only one/,
    ],
    ["no IdP settings at all", async () => samlBody({}), 400, "metadataUrl", /metadata URL/],
    [
      "a public email domain",
      async () => samlBody({ metadataXml: idp.metadataXml(), domains: ["gmail.com"] }),
      400,
      "domains",
      /./,
    ],
    [
      "an unknown connection type",
      async () => ({ ...samlBody({ metadataXml: idp.metadataXml() }), type: "ws-fed" }),
      400,
      "type",
      /"oidc", "saml"/,
    ],
    [
      "an OpenID Connect property on a SAML connection",
      async () => samlBody({ metadataXml: idp.metadataXml(), issuer: "https://acme.okta.com" }),
      400,
      "issuer",
      /Unknown property/,
    ],
  ];
  for (const [name, body, status, field, message] of cases) {
    test(name, async () => {
      // The strict rule is the production default; the tests' server allows http for the local IdP.
      gh.ctx.config.allowPrivateIssuers = !name.includes("https is allowed");
      try {
        const answer = await api("POST", "/connections", await body());
        assert.equal(answer.status, status, JSON.stringify(answer.body));
        const fields = answer.body.fields as Record<string, string> | undefined;
        assert.match(fields?.[field] ?? "", message, JSON.stringify(answer.body));
      } finally {
        gh.ctx.config.allowPrivateIssuers = true;
      }
      assert.equal((await listConnections(gh.ctx.store.db, organizationId)).length, 0);
      assert.equal(
        (await listAuditEvents(gh.ctx.store.db, { organizationId, type: "connection.created", limit: 5 }))
          .length,
        0,
      );
    });
  }
});

describe("a SAML connection's life through the API", () => {
  let created: SamlConnectionView;

  test("created from the IdP's metadata URL, enabled, with the SP values to copy", async () => {
    const answer = await api(
      "POST",
      "/connections",
      samlBody({ metadataUrl: `${metadataBase}/metadata`, allowIdpInitiated: false }),
    );
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    created = answer.body as unknown as SamlConnectionView;
    assert.equal(created.type, "saml");
    assert.equal(created.status, "enabled");
    assert.equal(created.idpEntityId, idp.entityId);
    assert.equal(created.ssoUrl, idp.ssoUrl);
    assert.equal(created.metadataUrl, `${metadataBase}/metadata`);
    assert.equal(created.acsUrl, `${gh.url}/sso/saml/${created.id}/acs`);
    assert.equal(created.spEntityId, `${gh.url}/sso/saml/${created.id}/metadata`);
    assert.equal(created.spMetadataUrl, created.spEntityId);
    assert.doesNotMatch(JSON.stringify(answer.body), /PRIVATE KEY/);
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "connection.created",
      limit: 1,
    });
    assert.equal(event?.detail?.protocol, "saml");
    assert.equal(event?.detail?.idpEntityId, idp.entityId);
    assert.doesNotMatch(JSON.stringify(event), /PRIVATE KEY|CERTIFICATE/);
  });

  test("listed and read with its protocol", async () => {
    const list = await api("GET", "/connections");
    const data = list.body.data as { id: string; type: string }[];
    assert.deepEqual(
      data.map((c) => [c.id, c.type]),
      [[created.id, "saml"]],
    );
    const one = await api("GET", `/connections/${created.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.acsUrl, created.acsUrl);
  });

  test("edited: a rolled-over certificate and IdP-initiated sign-in, audited by field name", async () => {
    const next = await generateSpKeyPair({ commonName: "next idp certificate" });
    const answer = await api("PATCH", `/connections/${created.id}`, {
      metadataXml: idp.metadataXml([next.certificatePem]),
      allowIdpInitiated: true,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.changed, ["metadataUrl", "certificates", "allowIdpInitiated"]);
    assert.equal((answer.body.signingCertificates as string[]).length, 2);
    assert.equal(answer.body.acsUrl, created.acsUrl, "the URLs the IdP holds never change");
    assert.equal(answer.body.spCertificate, created.spCertificate, "nor does Gatehouse's certificate");
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId,
      type: "connection.updated",
      limit: 1,
    });
    assert.deepEqual(event?.detail?.changed, ["metadataUrl", "certificates", "allowIdpInitiated"]);
    assert.doesNotMatch(JSON.stringify(event), /PRIVATE KEY|CERTIFICATE/);
  });

  test("an edit naming an OpenID Connect setting is refused, and one with bad metadata saves nothing", async () => {
    const foreign = await api("PATCH", `/connections/${created.id}`, { clientId: "x" });
    assert.equal(foreign.status, 400);
    assert.match((foreign.body.fields as Record<string, string>).clientId ?? "", /Not a setting of SAML/);
    const bad = await api("PATCH", `/connections/${created.id}`, { metadataXml: "<nope/>" });
    assert.equal(bad.status, 400);
    assert.ok((bad.body.fields as Record<string, string>).metadataXml);
    const after = await api("GET", `/connections/${created.id}`);
    assert.equal((after.body.signingCertificates as string[]).length, 2);
  });

  test("disabled, enabled and deleted", async () => {
    assert.equal((await api("POST", `/connections/${created.id}/disable`)).body.status, "disabled");
    assert.equal((await api("POST", `/connections/${created.id}/enable`)).body.status, "enabled");
    assert.equal((await api("DELETE", `/connections/${created.id}`)).status, 204);
    assert.equal((await api("GET", `/connections/${created.id}`)).status, 404);
  });

  test("created from settings by hand", async () => {
    const answer = await api(
      "POST",
      "/connections",
      samlBody({
        name: "Acme by hand",
        entityId: idp.entityId,
        ssoUrl: idp.ssoUrl,
        certificates: [idp.key.certificatePem],
      }),
    );
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.metadataUrl, null);
    assert.equal(answer.body.sloUrl, null);
  });
});
