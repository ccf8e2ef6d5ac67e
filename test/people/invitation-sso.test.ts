import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createInvitation } from "../../src/accounts/invitations.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { Browser, csrfToken, errorCode } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { connectAcme, seedAcme, signInAtIdp, startGatehouseWithIdp } from "../support/sso.js";

let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
before(async () => {
  ({ gh, idp } = await startGatehouseWithIdp());
  ({ organizationId } = await seedAcme(gh));
  await connectAcme(gh, idp, organizationId);
});
after(async () => {
  await gh?.close();
  await idp?.close();
});

test("an invitation to an SSO domain leads to SSO and binds to the identity with the same email", async () => {
  const { link } = await createInvitation(gh.ctx, {
    organizationId,
    email: "alice@acme.test",
    role: "admin",
    invitedByUserId: null,
  });
  const browser = new Browser();
  const page = await browser.get(link);
  assert.equal(page.status, 200);
  assert.ok(!page.body.includes('name="password"'), "no password for an SSO domain");
  const href = /href="([^"]+)" data-testid="invitation-sso"/.exec(page.body)?.[1]?.replaceAll("&amp;", "&");
  assert.equal(href, "/sso/start?email=alice%40acme.test");

  const start = await browser.get(`${gh.url}${href}`);
  const back = await signInAtIdp(browser, start, idp, "alice@acme.test", "alice-password", gh.url);
  const callback = await browser.get(back.location as string);
  assert.equal(callback.status, 303);
  const me = JSON.parse((await browser.get(`${gh.url}/api/v1/me`)).body) as {
    role: string;
    signInMethod: string;
  };
  assert.deepEqual([me.role, me.signInMethod], ["admin", "sso"]);

  const used = await new Browser().get(link);
  assert.equal(used.status, 410);
  assert.equal(errorCode(used.body), "INVITATION_USED");
  const accepted = await gh.ctx.store.db
    .selectFrom("audit_events")
    .select(["detail"])
    .where("type", "=", "invitation.accepted")
    .execute();
  assert.equal(accepted.length, 1);
  assert.match(accepted[0]?.detail ?? "", /"method":"sso"/);
});

test("a password cannot be set through a link once the domain signs in through SSO", async () => {
  const { link } = await createInvitation(gh.ctx, {
    organizationId,
    email: "bob@acme.test",
    role: "member",
    invitedByUserId: null,
  });
  const browser = new Browser();
  assert.equal((await browser.get(link)).status, 200);
  // The page offers no form; the request is made by hand, with a valid CSRF token from sign-in.
  const login = await browser.get(`${gh.url}/login`);
  const forced = await browser.post(`${gh.url}/invitation`, {
    _csrf: csrfToken(login.body),
    token: new URL(link).searchParams.get("token") ?? "",
    password: "a long enough password",
  });
  assert.equal(forced.status, 403);
  assert.equal(errorCode(forced.body), "AUTH_SSO_REQUIRED");
  assert.equal((await new Browser().get(link)).status, 200, "the link still leads to SSO");
});
