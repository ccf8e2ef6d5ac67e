/**
 * The outbound module's guard, offline: what it refuses before a single packet leaves, and
 * how long it keeps what providers send.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createConnection } from "../../src/connections/create.js";
import { GatehouseError } from "../../src/errors.js";
import { cacheLifetimeMs, createIdpFetch, isPublicAddress } from "../../src/sso/oidc/outbound.js";
import { Browser, errorCode } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, startIdp } from "../support/sso.js";

describe("isPublicAddress", () => {
  const cases: Array<[string, boolean]> = [
    ["93.184.216.34", true],
    ["8.8.8.8", true],
    ["2606:4700:4700::1111", true],
    ["127.0.0.1", false],
    ["127.255.0.9", false],
    ["10.1.2.3", false],
    ["172.16.0.1", false],
    ["172.31.255.255", false],
    ["172.32.0.1", true],
    ["192.168.1.1", false],
    ["169.254.169.254", false],
    ["100.64.0.1", false],
    ["0.0.0.0", false],
    ["224.0.0.1", false],
    ["::1", false],
    ["::", false],
    ["fe80::1", false],
    ["fd00::1", false],
    ["::ffff:127.0.0.1", false],
    ["::ffff:10.0.0.1", false],
    ["::ffff:8.8.8.8", true],
    // These were treated as public: each embeds an IPv4 address a router will reach.
    ["::127.0.0.1", false],
    ["::a9fe:a9fe", false],
    ["::ffff:7f00:1", false],
    ["64:ff9b:1::a00:1", false],
    ["2002:7f00:1::1", false],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", false],
    ["2001:4860:4860::8888", true],
    ["not-an-ip", false],
  ];
  for (const [address, expected] of cases) {
    test(`${address} is ${expected ? "public" : "refused"}`, () =>
      assert.equal(isPublicAddress(address), expected));
  }
});

describe("cacheLifetimeMs", () => {
  const bounds = { minMs: 60_000, maxMs: 86_400_000, fallbackMs: 600_000 };
  const cases: Array<[string | null, number]> = [
    [null, 600_000],
    ["", 600_000],
    ["public, max-age=3600", 3_600_000],
    ["max-age=5", 60_000],
    ["max-age=99999999", 86_400_000],
    ["no-store", 60_000],
    ["no-cache, max-age=3600", 60_000],
    ["max-age=300, s-maxage=7200", 7_200_000],
    ["private", 600_000],
    ["max-age=abc", 600_000],
  ];
  for (const [header, expected] of cases) {
    test(`Cache-Control ${JSON.stringify(header)} keeps it ${expected / 1000} s`, () =>
      assert.equal(cacheLifetimeMs(header, bounds), expected));
  }
});

describe("the total deadline of a request to an identity provider", () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      if (request.url === "/fast") {
        response.end('{"ok":true}');
        return;
      }
      // Headers at once, then a byte every 100 ms: no gap reaches a per-chunk timeout, only
      // the total deadline ends it.
      response.write("[");
      const trickle = setInterval(() => response.write("0,"), 100);
      response.on("close", () => clearInterval(trickle));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("covers the body: an answer that never finishes is refused when the deadline passes", async () => {
    const fetch = createIdpFetch({ allowPrivate: true, totalTimeoutMs: 600 });
    const started = performance.now();
    await assert.rejects(fetch(`${base}/trickle`, {}), (error: unknown) => {
      assert.ok(error instanceof GatehouseError);
      assert.equal(error.code, "SSO_OUTBOUND_FAILED");
      assert.match(error.message, /did not answer within/);
      return true;
    });
    // Not timed for speed: only that the deadline, not the server, ended it.
    assert.ok(performance.now() - started >= 550);
  });

  test("a complete answer is returned whole, and the next call has its own deadline", async () => {
    const fetch = createIdpFetch({ allowPrivate: true, totalTimeoutMs: 600 });
    const first = await fetch(`${base}/fast`, {});
    assert.deepEqual(await first.json(), { ok: true });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const second = await fetch(`${base}/fast`, {});
    assert.equal(second.status, 200);
    assert.deepEqual(await second.json(), { ok: true });
  });
});

describe("issuers Gatehouse refuses to contact without GATEHOUSE_ALLOW_PRIVATE_ISSUERS", () => {
  let gh: TestGatehouse;
  let organizationId: string;
  before(async () => {
    gh = await startGatehouse({ env: { GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "0" } });
    ({ organizationId } = await seedAcme(gh));
  });
  after(() => gh.close());

  const refusals: Array<[string, string]> = [
    ["http://idp.example.com", "VALIDATION_FAILED"],
    ["https://127.0.0.1:4443", "SSO_ISSUER_NOT_ALLOWED"],
    ["https://localhost:4443", "SSO_ISSUER_NOT_ALLOWED"],
    ["https://169.254.169.254", "SSO_ISSUER_NOT_ALLOWED"],
    ["https://10.0.0.1", "SSO_ISSUER_NOT_ALLOWED"],
    ["https://[::1]:4443", "SSO_ISSUER_NOT_ALLOWED"],
    ["https://[::ffff:127.0.0.1]:4443", "SSO_ISSUER_NOT_ALLOWED"],
  ];
  for (const [issuer, code] of refusals) {
    test(`${issuer} → ${code}, with the reason beside the Issuer URL and nothing created`, async () => {
      await assert.rejects(
        createConnection(gh.ctx, {
          organizationId,
          input: {
            name: `Refused ${issuer}`,
            issuer,
            clientId: "c",
            clientSecret: "s",
            domains: ["acme.test"],
          },
          actorUserId: null,
        }),
        (error: { code?: string; fields?: Record<string, string> }) =>
          error.code === code && typeof error.fields?.issuer === "string",
      );
      const rows = await gh.ctx.store.db.selectFrom("connections").select("id").execute();
      assert.equal(rows.length, 0);
    });
  }
});

describe("abuse limits", () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startGatehouse({ env: { GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "3" } });
    const { organizationId } = await seedAcme(gh);
    const idp = await startIdp(gh);
    after(() => idp.close());
    await connectAcme(gh, idp, organizationId);
  });
  after(() => gh.close());

  test("sign-in starts per IP are limited per minute, across browsers, with a 429 page", async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await new Browser().get(`${gh.url}/sso/start?email=bob@acme.test`)).status, 302);
    }
    const limited = await new Browser().get(`${gh.url}/sso/start?email=bob@acme.test`);
    assert.equal(limited.status, 429);
    assert.equal(errorCode(limited.body), "AUTH_RATE_LIMITED");
    gh.advance(61_000);
    assert.equal((await new Browser().get(`${gh.url}/sso/start?email=bob@acme.test`)).status, 302);
  });

  test("a browser may hold only a handful of open sign-ins", async () => {
    gh.advance(61_000);
    const browser = new Browser();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await browser.get(`${gh.url}/sso/start?email=bob@acme.test`)).status);
    gh.advance(61_000);
    for (let i = 0; i < 3; i++)
      statuses.push((await browser.get(`${gh.url}/sso/start?email=bob@acme.test`)).status);
    assert.deepEqual(statuses, [302, 302, 302, 302, 302, 429]);
    const page = await browser.get(`${gh.url}/sso/start?email=bob@acme.test`);
    assert.equal(errorCode(page.body), "AUTH_RATE_LIMITED");
  });

  test("oversized and repeated query parameters answer 400 with a page, not a 500", async () => {
    const long = await new Browser().get(`${gh.url}/sso/start?email=${"a".repeat(400)}@acme.test`);
    assert.equal(long.status, 400);
    assert.equal(errorCode(long.body), "REQUEST_INVALID");
    const repeated = await new Browser().get(`${gh.url}/sso/start?email=a@acme.test&email=b@acme.test`);
    assert.equal(repeated.status, 400);
    const callback = await new Browser().get(`${gh.url}/sso/oidc/callback?state=${"s".repeat(600)}&code=x`);
    assert.ok(callback.status >= 400 && callback.status < 500);
  });
});
