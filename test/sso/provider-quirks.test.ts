/**
 * Gatehouse's default settings against providers stricter than oidc-provider: the development
 * IdP switched into each quirk that third-party providers have.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { DevIdp, DevIdpQuirks } from "../../src/dev-idp/server.js";
import { formUrlEncode } from "../../src/sso/oidc/client-auth.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser, csrfToken } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, ssoSignIn, startIdp } from "../support/sso.js";

const started: { gh: TestGatehouse; idp: DevIdp }[] = [];
after(async () => {
  for (const { gh, idp } of started) {
    await idp.close();
    await gh.close();
  }
});

async function setup(quirks: DevIdpQuirks) {
  const gh = await startGatehouse();
  const idp = await startIdp(gh, [], quirks);
  started.push({ gh, idp });
  const { organizationId } = await seedAcme(gh);
  const connection = await connectAcme(gh, idp, organizationId);
  return { gh, idp, organizationId, connection };
}

describe("HTTP Basic client credentials", () => {
  test("are form-urlencoded as the WHATWG serializer does", () => {
    const cases: [string, string][] = [
      ["gatehouse-okta", "gatehouse-okta"],
      ["a.b_c*d-e", "a.b_c*d-e"],
      ["AZaz09", "AZaz09"],
      ["with space", "with+space"],
      ["~!'()", "%7E%21%27%28%29"],
      ["p+s/=:%", "p%2Bs%2F%3D%3A%25"],
      ["é", "%C3%A9"],
    ];
    for (const [raw, encoded] of cases) assert.equal(formUrlEncode(raw), encoded, raw);
  });

  test("a client id and secret with '-' sign in at a provider that takes Basic credentials literally", async () => {
    const { gh, idp } = await setup({ literalBasicCredentials: true });
    const answer = await ssoSignIn(new Browser(), gh, idp, "alice@acme.test", "alice-password");
    assert.equal(answer.status, 303, answer.body);
    assert.equal(answer.location, `${gh.url}/`);
  });
});

describe("RP-initiated logout", () => {
  async function signOutAtIdp(gh: TestGatehouse, idp: DevIdp, browser: Browser) {
    const home = await browser.get(`${gh.url}/`);
    const out = await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal(out.status, 303);
    assert.ok(out.location?.startsWith(idp.issuer), out.location);
    const confirm = await browser.get(out.location as string);
    assert.equal(confirm.status, 200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
    const action = /action="([^"]*\/session\/end\/confirm)"/.exec(confirm.body)?.[1];
    assert.ok(xsrf && action, "the IdP's logout confirmation");
    return browser.post(new URL(action, idp.issuer).toString(), { xsrf, logout: "yes" });
  }

  test("sends state, so a provider that returns only with state brings the user home; state is checked", async () => {
    const { gh, idp, organizationId } = await setup({ logoutRedirectOnlyWithState: true });
    const browser = new Browser();
    await ssoSignIn(browser, gh, idp, "bob@acme.test", "bob-password");
    const back = await signOutAtIdp(gh, idp, browser);
    assert.equal(back.status, 303);
    const returned = new URL(back.location as string);
    assert.equal(`${returned.origin}${returned.pathname}`, `${gh.url}/`);
    assert.ok(returned.searchParams.get("state"));
    const home = await browser.follow(await browser.get(returned.toString()));
    assert.equal(home.url, `${gh.url}/`);
    assert.match(home.body, /You are not signed in/);
    const [event] = await listAuditEvents(gh.ctx.store.db, { organizationId, limit: 1 });
    assert.equal(event?.type, "sign_out.returned");
    assert.equal(event?.outcome, "success");
  });

  test("a wrong state still lands signed out on the home page, and is audited", async () => {
    const { gh, idp, organizationId } = await setup({ logoutRedirectOnlyWithState: true });
    const browser = new Browser();
    await ssoSignIn(browser, gh, idp, "bob@acme.test", "bob-password");
    const home = await browser.get(`${gh.url}/`);
    const out = await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.ok(new URL(out.location as string).searchParams.get("state"));
    const forged = await browser.get(`${gh.url}/?state=forged`);
    assert.equal(forged.status, 303);
    const landed = await browser.follow(forged);
    assert.match(landed.body, /You are not signed in/);
    const [event] = await listAuditEvents(gh.ctx.store.db, { organizationId, limit: 1 });
    assert.equal(event?.type, "sign_out.returned");
    assert.equal(event?.outcome, "failure");
    assert.equal(event?.reasonCode, "SSO_LOGOUT_STATE_MISMATCH");
  });
});

describe("signing-key rotation", () => {
  test("two sign-ins one second apart with the key replaced between them both succeed", async () => {
    const { gh, idp } = await setup({});
    const first = await ssoSignIn(new Browser(), gh, idp, "alice@acme.test", "alice-password");
    assert.equal(first.status, 303, first.body);
    await idp.rotateSigningKey();
    // The provider's clock is the real one, so the second token is issued a real second later.
    await sleep(1000);
    const second = await ssoSignIn(new Browser(), gh, idp, "bob@acme.test", "bob-password");
    assert.equal(second.status, 303, second.body);
    assert.equal(second.location, `${gh.url}/`);
  });
});
