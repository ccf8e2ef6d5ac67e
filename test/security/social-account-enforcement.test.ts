import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { deleteConnection } from "../../src/connections/delete.js";
import { subjectForEmail } from "../../src/dev-idp/accounts.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser, errorCode } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, signInAtIdp, startGatehouseWithIdp } from "../support/sso.js";

// Issue 10, item 1: enforcement was decided on the address LinkedIn sent at sign-in, while the
// returning identity was found by its subject; a changed LinkedIn address opened the account.

let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
const OWNER_AT_IDP = { email: ADMIN.email, password: "admin-password" };

before(async () => {
  ({ gh, idp } = await startGatehouseWithIdp());
  ({ organizationId } = await seedAcme(gh));
});
after(async () => {
  await idp.close();
  await gh.close();
});

async function linkedinSignIn(email: string, password: string) {
  const browser = new Browser();
  const start = await browser.get(`${gh.url}/login/linkedin`);
  const back = await signInAtIdp(browser, start, idp, email, password, gh.url);
  const answer = await browser.get(back.location as string);
  const me = await browser.get(`${gh.url}/api/v1/me`);
  return { answer, me };
}

test("a LinkedIn identity whose address changed to a personal one no longer escapes SSO enforcement", async () => {
  // Before SSO: the owner links LinkedIn (same address) to their Acme account.
  const linked = await linkedinSignIn(OWNER_AT_IDP.email, OWNER_AT_IDP.password);
  assert.equal(linked.answer.status, 303);
  assert.equal(linked.me.status, 200);
  assert.equal(JSON.parse(linked.me.body).role, "owner");

  const connection = await connectAcme(gh, idp, organizationId);
  const refused = await linkedinSignIn(OWNER_AT_IDP.email, OWNER_AT_IDP.password);
  assert.equal(errorCode(refused.answer.body), "AUTH_SSO_REQUIRED");

  // The owner's LinkedIn address becomes a personal one; the subject stays.
  idp.changeEmail(subjectForEmail(OWNER_AT_IDP.email), "ada@personal.test");
  const escaped = await linkedinSignIn("ada@personal.test", OWNER_AT_IDP.password);
  assert.equal(escaped.answer.status, 403);
  assert.equal(errorCode(escaped.answer.body), "AUTH_SSO_REQUIRED");
  assert.equal(escaped.me.status, 401, "no session in the Acme account");
  const [event] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "sign_in.linkedin",
    limit: 1,
  });
  assert.equal(event?.outcome, "failure");
  assert.equal(event?.reasonCode, "AUTH_SSO_REQUIRED");
  assert.equal(event?.connectionId, connection.id);
  assert.equal(event?.email, "ada@personal.test");
  assert.deepEqual(event?.detail, {
    check: "sso_enforcement",
    connection: connection.name,
    account: ADMIN.email,
  });
  const accounts = await gh.ctx.store.db.selectFrom("users").select("email").orderBy("email").execute();
  assert.deepEqual(
    accounts.map((a) => a.email),
    [ADMIN.email],
    "no account was created for the new address",
  );

  // The refusal is enforcement's: without the connection the identity opens its account again.
  await deleteConnection(gh.ctx, { organizationId, actorUserId: null }, connection.id);
  const reopened = await linkedinSignIn("ada@personal.test", OWNER_AT_IDP.password);
  assert.equal(reopened.answer.status, 303);
  assert.equal(JSON.parse(reopened.me.body).user.email, ADMIN.email);
});
