/**
 * IdP metadata by URL goes through the outbound module: the document comes back as text, and
 * every way a URL can be wrong is a field error on metadataUrl (400), never a 500.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { fetchIdpMetadataXml, MAX_METADATA_URL_BYTES } from "../../src/connections/saml-metadata-url.js";
import { isGatehouseError } from "../../src/errors.js";
import type { AppContext } from "../../src/server/context.js";
import { createTestIdp, type TestIdp } from "../saml/hostile-idp.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";

let gh: TestGatehouse;
let idp: TestIdp;
let server: Server;
let base: string;

before(async () => {
  gh = await startGatehouse();
  idp = await createTestIdp();
  server = createServer((request, response) => {
    if (request.url === "/metadata") {
      response.writeHead(200, { "content-type": "application/samlmetadata+xml" });
      return response.end(idp.metadataXml());
    }
    if (request.url === "/huge") {
      response.writeHead(200, { "content-type": "application/xml" });
      return response.end(`<x>${"a".repeat(MAX_METADATA_URL_BYTES + 10)}</x>`);
    }
    if (request.url === "/moved") {
      response.writeHead(302, { location: "/metadata" });
      return response.end();
    }
    if (request.url === "/latin1") {
      response.writeHead(200, { "content-type": "text/xml" });
      return response.end(Buffer.from([0x3c, 0x78, 0xe9, 0x3e]));
    }
    response.writeHead(404).end("not here");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await gh.close();
});

/** The rejection is a 400 field error on metadataUrl whose message contains `words`. */
async function assertFieldError(promise: Promise<unknown>, words: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isGatehouseError(error), String(error));
    assert.equal(error.code, "VALIDATION_FAILED");
    assert.equal(error.status, 400);
    assert.match(error.fields?.metadataUrl ?? "", words);
    return true;
  });
}

describe("IdP metadata by URL", () => {
  test("the document is downloaded as text", async () => {
    const xml = await fetchIdpMetadataXml(gh.ctx, `${base}/metadata`);
    assert.equal(xml, idp.metadataXml());
  });

  test("an oversized document is refused", () =>
    assertFieldError(fetchIdpMetadataXml(gh.ctx, `${base}/huge`), /larger than 512 KiB/));

  test("a redirect is not followed", () =>
    assertFieldError(fetchIdpMetadataXml(gh.ctx, `${base}/moved`), /redirect/));

  test("an error status is refused with the status", () =>
    assertFieldError(fetchIdpMetadataXml(gh.ctx, `${base}/missing`), /HTTP 404/));

  test("a body that is not UTF-8 is refused", () =>
    assertFieldError(fetchIdpMetadataXml(gh.ctx, `${base}/latin1`), /UTF-8/));

  test("an unreachable host is refused, naming the reason", async () => {
    const closed = await freePort();
    await assertFieldError(fetchIdpMetadataXml(gh.ctx, `http://127.0.0.1:${closed}/m`), /refused/);
  });

  test("a URL that is not one is refused before anything is fetched", () =>
    assertFieldError(fetchIdpMetadataXml(gh.ctx, "acme.okta.com/metadata"), /Enter a URL/));

  describe("without GATEHOUSE_ALLOW_PRIVATE_ISSUERS", () => {
    let strict: AppContext;
    before(() => {
      strict = { ...gh.ctx, config: { ...gh.ctx.config, allowPrivateIssuers: false } };
    });

    test("http: is refused", () =>
      assertFieldError(fetchIdpMetadataXml(strict, `${base}/metadata`), /must start with https/));

    test("a loopback address is refused", () =>
      assertFieldError(fetchIdpMetadataXml(strict, "https://127.0.0.1/metadata"), /private or loopback/));
  });
});
