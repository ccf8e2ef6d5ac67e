/**
 * An IdP that reassigns an address (a mailbox given to a new employee, a rename) must not
 * merge two people, and an account must follow its own subject's address.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { findUserByEmail } from "../../src/store/users.js";
import { Browser } from "../support/browserless.js";
import { assertRefused, assertSignedIn, type Harness, signIn, snapshot, startHarness } from "./support.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

test("a new subject asserting the email of an account linked to another subject is refused with SSO_USER_CONFLICT", async () => {
  const op = await h.provider({ claims: { sub: "alice-original" } });
  await assertSignedIn(h, await signIn(h));
  // The IdP now gives alice@acme.test to someone else.
  op.set({ claims: { sub: "alice-successor" } });
  const before = await snapshot(h);
  const event = await assertRefused(h, await signIn(h, new Browser()), {
    code: "SSO_USER_CONFLICT",
    check: /linked to another subject/,
    before,
  });
  assert.equal(event.subject, "alice-successor");
  // The original subject still gets its own account.
  op.set({ claims: { sub: "alice-original" } });
  await assertSignedIn(h, await signIn(h, new Browser()));
});

test("a known subject asserting a new email moves the account to it; a taken address is recorded, not merged", async () => {
  const op = await h.provider({ claims: { sub: "renamed-subject", email: "alice@acme.test" } });
  const first = await signIn(h);
  assert.equal(first.answer.status, 303);
  const account = await findUserByEmail(h.gh.ctx.store.db, "alice@acme.test");
  assert.ok(account);

  op.set({ claims: { sub: "renamed-subject", email: "alice.smith@acme.test" } });
  assert.equal((await signIn(h, new Browser())).answer.status, 303);
  assert.equal((await findUserByEmail(h.gh.ctx.store.db, "alice.smith@acme.test"))?.id, account.id);
  assert.equal(await findUserByEmail(h.gh.ctx.store.db, "alice@acme.test"), undefined);

  // Another account holds bob@acme.test: the subject keeps its account and address.
  op.set({ claims: { sub: "bob-subject", email: "bob@acme.test" } });
  assert.equal((await signIn(h, new Browser())).answer.status, 303);
  op.set({ claims: { sub: "renamed-subject", email: "bob@acme.test" } });
  const conflicted = await signIn(h, new Browser());
  assert.equal(conflicted.answer.status, 303);
  const me = JSON.parse((await conflicted.browser.get(`${h.gh.url}/api/v1/me`)).body) as {
    user: { id: string; email: string };
  };
  assert.deepEqual(me.user.id, account.id);
  assert.equal(me.user.email, "alice.smith@acme.test");
  const flagged = await h.gh.ctx.store.db
    .selectFrom("audit_events")
    .select(["type", "user_id"])
    .where("type", "=", "user.email_conflict")
    .execute();
  assert.deepEqual(flagged, [{ type: "user.email_conflict", user_id: account.id }]);
});
