/**
 * An admin's change is in force on the instance that made it before that instance answers:
 * PostgreSQL announces a commit on the notification connection, which this instance may read
 * after the next request, so each change waits for its own announcement first. Here the cache
 * hears announcements only when it asks to catch up, so a change that does not wait is served
 * stale by the very next check.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { changeMemberRole, removeMember } from "../../src/accounts/people.js";
import { signOutMember, signOutOrganization } from "../../src/accounts/sign-out-everywhere.js";
import {
  deleteConnection,
  disableConnection,
  enableConnection,
  signOutConnectionSessions,
} from "../../src/connections/delete.js";
import { addDomain } from "../../src/domains/add.js";
import { checkSession } from "../../src/session/validate.js";
import type { Organization } from "../../src/store/organizations.js";
import { insertSession, type NewSession } from "../../src/store/sessions.js";
import type { User } from "../../src/store/users.js";
import { newSession, seedConnection, seedMember, seedOrganization } from "../store/fixtures.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { type HeldAnnouncements, holdAnnouncements } from "../support/held-announcements.js";

let gh: TestGatehouse;
let held: HeldAnnouncements;
let acme: Organization;
let owner: User;

before(async () => {
  gh = await startGatehouse();
  held = holdAnnouncements(gh.ctx);
  acme = await seedOrganization(gh.ctx.store.db, "acme");
  owner = await seedMember(gh.ctx.store.db, acme, "owner@acme.test", "owner");
  // PostgreSQL: the cache is trusted once the notification connection listens.
  while (!gh.ctx.sessionCache.trusted()) await sleep(5);
});
after(() => gh.close());

/** A live session, checked once so that the cache holds it. */
async function cachedSession(user: User, overrides: Partial<NewSession> = {}): Promise<string> {
  const now = gh.ctx.now();
  const session = newSession(user, {
    organizationId: acme.id,
    createdAt: now,
    expiresAt: now + 3600_000,
    ...overrides,
  });
  await insertSession(gh.ctx.store.db, session);
  assert.ok(await checkSession(gh.ctx, session.idHash));
  assert.ok(gh.ctx.sessionCache.get(session.idHash, gh.ctx.now()), "cached after its first check");
  return session.idHash;
}

/** Runs the change, then checks at once: what the change ended must not be served. */
async function endedAtOnce(idHash: string, change: () => Promise<unknown>): Promise<void> {
  const brought = held.broughtBySync;
  await change();
  assert.equal(await checkSession(gh.ctx, idHash), undefined, "refused by the next check");
  assert.ok(held.broughtBySync > brought, "the announcement came by catching up, not by chance");
}

let members = 0;
const member = () => seedMember(gh.ctx.store.db, acme, `person${++members}@acme.test`);
const connectionActor = () => ({ organizationId: acme.id, actorUserId: owner.id });

test("a connection's sessions end at once: sign out everyone through it, disable, delete", async () => {
  const id = await seedConnection(gh.ctx.store.db, acme, { domains: ["sessions.acme.test"] });
  const person = await member();
  const sso = { method: "sso" as const, connectionId: id };
  await endedAtOnce(await cachedSession(person, sso), () =>
    signOutConnectionSessions(gh.ctx, connectionActor(), id),
  );
  await endedAtOnce(await cachedSession(person, sso), () => disableConnection(gh.ctx, connectionActor(), id));
  await enableConnection(gh.ctx, connectionActor(), id);
  await endedAtOnce(await cachedSession(person, sso), () => deleteConnection(gh.ctx, connectionActor(), id));
});

test("a member's sessions end at once: sign out everywhere, sign out everyone, removal", async () => {
  const signOutActor = { organizationId: acme.id, userId: owner.id };
  const person = await member();
  await endedAtOnce(await cachedSession(person), () => signOutMember(gh.ctx, signOutActor, person.id));
  await endedAtOnce(await cachedSession(person), () => signOutOrganization(gh.ctx, signOutActor));
  await endedAtOnce(await cachedSession(person), () =>
    removeMember(gh.ctx, acme.id, person.id, { userId: owner.id, role: "owner" }),
  );
});

test("a new role is in force at the next check", async () => {
  const person = await member();
  const idHash = await cachedSession(person);
  await changeMemberRole(gh.ctx, acme.id, person.id, "admin", { userId: owner.id, role: "owner" });
  assert.equal((await checkSession(gh.ctx, idHash))?.role, "admin");
});

test("a domain the operator verifies ends the password sessions there at once", async () => {
  await seedConnection(gh.ctx.store.db, acme, { domains: ["later.acme.test"], pending: true });
  const person = await seedMember(gh.ctx.store.db, acme, "pat@later.acme.test");
  await endedAtOnce(await cachedSession(person), () =>
    addDomain(gh.ctx, connectionActor(), "later.acme.test", { operatorVerified: true }),
  );
});
