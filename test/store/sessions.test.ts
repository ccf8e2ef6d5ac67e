import assert from "node:assert/strict";
import { test } from "node:test";
import type { Kysely } from "kysely";
import type { Database } from "../../src/store/schema.js";
import {
  deleteExpiredSessions,
  findActiveSession,
  insertSession,
  listSessionsForConnectionUser,
  revokeNonSsoSessionsForDomains,
  revokeSession,
  revokeSessionsForConnection,
  revokeSessionsForConnectionUser,
  revokeSessionsForOrganization,
  revokeSessionsForUser,
  touchSession,
} from "../../src/store/sessions.js";
import { insertUser } from "../../src/store/users.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import {
  hour,
  isUniqueViolation,
  minute,
  newSession,
  seedConnection,
  seedMember,
  seedOrganization,
  t0,
} from "./fixtures.js";

async function sessionRow(db: Kysely<Database>, idHash: string) {
  return db.selectFrom("sessions").selectAll().where("id_hash", "=", idHash).executeTakeFirst();
}

withEachDatabase("store: sessions", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("findActiveSession joins the user, organization, role and connection name", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test", "admin");
    const connectionId = await seedConnection(db, acme, { name: "Acme Okta", domains: ["acme.test"] });
    const session = newSession(ada, {
      organizationId: acme.id,
      method: "sso",
      connectionId,
      idTokenSealed: "eyJ.id.token",
      idpSid: "idp-session",
    });
    await insertSession(db, session);
    assert.deepEqual(await findActiveSession(db, session.idHash, t0 + minute), {
      idHash: session.idHash,
      userId: ada.id,
      email: "ada@acme.test",
      name: "ada",
      givenName: null,
      familyName: null,
      organizationId: acme.id,
      organizationSlug: "acme",
      organizationName: acme.name,
      role: "admin",
      method: "sso",
      connectionId,
      connectionName: "Acme Okta",
      createdAt: t0,
      authenticatedAfresh: false,
      expiresAt: t0 + 8 * hour,
      lastSeenAt: t0,
    });
  });

  test("a session whose sign-in asked for the person's credentials afresh reads back as such", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test", "admin");
    const fresh = newSession(ada, { organizationId: acme.id, method: "sso", authenticatedAfresh: true });
    const silent = newSession(ada, { organizationId: acme.id, method: "sso" });
    await insertSession(db, fresh);
    await insertSession(db, silent);
    assert.equal((await findActiveSession(db, fresh.idHash, t0 + minute))?.authenticatedAfresh, true);
    assert.equal((await findActiveSession(db, silent.idHash, t0 + minute))?.authenticatedAfresh, false);
  });

  test("a session outside any organization has no organization, role or connection", async () => {
    const { db } = database().store;
    const loner = await insertUser(db, { email: "loner@example.test" }, t0);
    const session = newSession(loner, { method: "linkedin" });
    await insertSession(db, session);
    const active = await findActiveSession(db, session.idHash, t0);
    assert.equal(active?.method, "linkedin");
    assert.equal(active?.organizationId, null);
    assert.equal(active?.organizationSlug, null);
    assert.equal(active?.role, null);
    assert.equal(active?.connectionName, null);
  });

  test("an unknown session id finds nothing", async () => {
    const { db } = database().store;
    assert.equal(await findActiveSession(db, "no-such-hash", t0), undefined);
  });

  test("a session id is used once", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const session = newSession(ada);
    await insertSession(db, session);
    await assert.rejects(insertSession(db, session), isUniqueViolation);
  });

  test("an expired session is refused from its expiry instant on", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const session = newSession(ada, { expiresAt: t0 + hour });
    await insertSession(db, session);
    assert.ok(await findActiveSession(db, session.idHash, t0 + hour - 1));
    assert.equal(await findActiveSession(db, session.idHash, t0 + hour), undefined);
  });

  test("a revoked session is refused", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const session = newSession(ada);
    await insertSession(db, session);
    await revokeSession(db, session.idHash, t0 + minute);
    assert.equal(await findActiveSession(db, session.idHash, t0 + 2 * minute), undefined);
  });

  test("revokeSession hands back the ID token and connection once, then erases the token", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test");
    const connectionId = await seedConnection(db, acme, { domains: ["acme.test"] });
    const session = newSession(ada, {
      organizationId: acme.id,
      method: "sso",
      connectionId,
      idTokenSealed: "eyJ.id.token",
    });
    await insertSession(db, session);
    assert.deepEqual(await revokeSession(db, session.idHash, t0 + minute), {
      connectionId,
      idTokenSealed: "eyJ.id.token",
      idpSessionSealed: null,
      userId: ada.id,
    });
    assert.equal(await revokeSession(db, session.idHash, t0 + 2 * minute), undefined);
    const row = await sessionRow(db, session.idHash);
    assert.equal(row?.revoked_at, t0 + minute);
    assert.equal(row?.id_token_sealed, null);
  });

  test("revokeSession hands back another protocol's sealed IdP session once, then erases it", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test");
    const connectionId = await seedConnection(db, acme, { domains: ["acme.test"] });
    const session = newSession(ada, {
      organizationId: acme.id,
      method: "sso",
      connectionId,
      idpSessionSealed: "v1.sealed-name-id-and-session-index",
    });
    await insertSession(db, session);
    assert.deepEqual(await revokeSession(db, session.idHash, t0 + minute), {
      connectionId,
      idTokenSealed: null,
      idpSessionSealed: "v1.sealed-name-id-and-session-index",
      userId: ada.id,
    });
    const row = await sessionRow(db, session.idHash);
    assert.equal(row?.idp_session_sealed, null);
  });

  test("of two concurrent revocations exactly one gets the ID token", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const session = newSession(ada, { method: "sso", idTokenSealed: "eyJ.id.token" });
    await insertSession(db, session);
    const results = await Promise.all([
      revokeSession(db, session.idHash, t0 + minute),
      revokeSession(db, session.idHash, t0 + minute),
    ]);
    assert.deepEqual(
      results.map((r) => r?.idTokenSealed),
      results[0] ? ["eyJ.id.token", undefined] : [undefined, "eyJ.id.token"],
    );
  });

  test("revoking an unknown session finds nothing", async () => {
    const { db } = database().store;
    assert.equal(await revokeSession(db, "no-such-hash", t0), undefined);
  });

  test("revokeNonSsoSessionsForDomains ends only non-SSO sessions of users at those domains", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const connectionId = await seedConnection(db, acme, { domains: ["acme.test"] });
    const ada = await seedMember(db, acme, "ada@acme.test", "admin");
    const bob = await seedMember(db, acme, "bob@acme.test");
    const carol = await seedMember(db, acme, "carol@acme.test");
    const outsider = await insertUser(db, { email: "eve@globex.test" }, t0);
    const subdomain = await insertUser(db, { email: "sam@eu.acme.test" }, t0);
    const lookalike = await insertUser(db, { email: "mal@notacme.test" }, t0);
    const sessions = {
      adminHere: newSession(ada),
      adminElsewhere: newSession(ada),
      bobPassword: newSession(bob),
      bobLinkedin: newSession(bob, { method: "linkedin" }),
      bobAlreadyRevoked: newSession(bob),
      carolSso: newSession(carol, { method: "sso", connectionId, idTokenSealed: "eyJ.carol" }),
      outsider: newSession(outsider),
      subdomain: newSession(subdomain),
      lookalike: newSession(lookalike),
    };
    for (const session of Object.values(sessions)) await insertSession(db, session);
    await revokeSession(db, sessions.bobAlreadyRevoked.idHash, t0);

    const revoked = await revokeNonSsoSessionsForDomains(
      db,
      ["acme.test"],
      sessions.adminHere.idHash,
      t0 + hour,
    );

    assert.equal(revoked, 3);
    const state: Record<string, number | null | undefined> = {};
    for (const [name, session] of Object.entries(sessions)) {
      state[name] = (await sessionRow(db, session.idHash))?.revoked_at;
    }
    assert.deepEqual(state, {
      adminHere: null,
      adminElsewhere: t0 + hour,
      bobPassword: t0 + hour,
      bobLinkedin: t0 + hour,
      bobAlreadyRevoked: t0,
      carolSso: null,
      outsider: null,
      subdomain: null,
      lookalike: null,
    });
    assert.equal((await sessionRow(db, sessions.carolSso.idHash))?.id_token_sealed, "eyJ.carol");
  });

  test("revokeNonSsoSessionsForDomains matches a domain given in capitals", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "Ada@Acme.Test" }, t0);
    const session = newSession(ada);
    await insertSession(db, session);
    assert.equal(await revokeNonSsoSessionsForDomains(db, ["ACME.test"], undefined, t0), 1);
  });

  test("revokeNonSsoSessionsForDomains treats wildcard characters in a domain literally", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const bob = await insertUser(db, { email: "bob@a_me.test" }, t0);
    await insertSession(db, newSession(ada));
    await insertSession(db, newSession(bob));
    assert.equal(await revokeNonSsoSessionsForDomains(db, ["%", "a_me.test", "acme!test"], undefined, t0), 1);
    assert.equal(await revokeNonSsoSessionsForDomains(db, [], undefined, t0), 0);
  });

  /** Two organizations, two connections, sessions of every kind; returns who is who. */
  async function seedSessionsEverywhere(db: Kysely<Database>) {
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const okta = await seedConnection(db, acme, { domains: ["acme.test"] });
    const entra = await seedConnection(db, globex, { domains: ["globex.test"] });
    const ada = await seedMember(db, acme, "ada@acme.test", "owner");
    const bob = await seedMember(db, acme, "bob@acme.test");
    const gil = await seedMember(db, globex, "gil@globex.test");
    await db
      .insertInto("memberships")
      .values({ organization_id: globex.id, user_id: ada.id, role: "member", created_at: t0 })
      .execute();
    const sessions = {
      adaOkta: newSession(ada, {
        organizationId: acme.id,
        method: "sso",
        connectionId: okta,
        idTokenSealed: "t",
      }),
      adaPassword: newSession(ada, { organizationId: acme.id }),
      adaInGlobex: newSession(ada, { organizationId: globex.id }),
      adaExpired: newSession(ada, { organizationId: acme.id, expiresAt: t0 + minute }),
      bobOkta: newSession(bob, { organizationId: acme.id, method: "sso", connectionId: okta }),
      bobRevoked: newSession(bob, { organizationId: acme.id, method: "sso", connectionId: okta }),
      gilEntra: newSession(gil, { organizationId: globex.id, method: "sso", connectionId: entra }),
    };
    for (const session of Object.values(sessions)) await insertSession(db, session);
    await revokeSession(db, sessions.bobRevoked.idHash, t0);
    return { acme, globex, okta, entra, ada, bob, gil, sessions };
  }

  async function revokedAt(db: Kysely<Database>, sessions: Record<string, { idHash: string }>) {
    const state: Record<string, number | null | undefined> = {};
    for (const [name, session] of Object.entries(sessions)) {
      state[name] = (await sessionRow(db, session.idHash))?.revoked_at;
    }
    return state;
  }

  test("revokeSessionsForConnection ends the live sessions that connection issued, and only those", async () => {
    const { db } = database().store;
    const { okta, sessions } = await seedSessionsEverywhere(db);
    assert.equal(await revokeSessionsForConnection(db, okta, t0 + hour), 2);
    assert.deepEqual(await revokedAt(db, sessions), {
      adaOkta: t0 + hour,
      adaPassword: null,
      adaInGlobex: null,
      adaExpired: null,
      bobOkta: t0 + hour,
      bobRevoked: t0,
      gilEntra: null,
    });
    assert.equal(
      (await sessionRow(db, sessions.adaOkta.idHash))?.id_token_sealed,
      null,
      "no logout needs it now",
    );
    assert.equal(await findActiveSession(db, sessions.bobOkta.idHash, t0 + hour), undefined);
    assert.equal(await revokeSessionsForConnection(db, okta, t0 + 2 * hour), 0, "counted once");
  });

  test("listSessionsForConnectionUser lists one person's live sessions from one connection, with their sealed IdP session", async () => {
    const { db } = database().store;
    const { okta, ada, bob, sessions } = await seedSessionsEverywhere(db);
    await db
      .updateTable("sessions")
      .set({ idp_session_sealed: "sealed-handle" })
      .where("id_hash", "=", sessions.adaOkta.idHash)
      .execute();
    assert.deepEqual(await listSessionsForConnectionUser(db, okta, ada.id, t0 + hour), [
      { idHash: sessions.adaOkta.idHash, idpSessionSealed: "sealed-handle" },
    ]);
    assert.deepEqual(
      (await listSessionsForConnectionUser(db, okta, bob.id, t0 + hour)).map((s) => s.idHash),
      [sessions.bobOkta.idHash],
      "not the revoked one",
    );
  });

  test("revokeSessionsForConnectionUser with idHashes ends only those of the person's sessions from the connection", async () => {
    const { db } = database().store;
    const { okta, ada, acme, sessions } = await seedSessionsEverywhere(db);
    const adaOktaAgain = newSession(ada, { organizationId: acme.id, method: "sso", connectionId: okta });
    await insertSession(db, adaOktaAgain);
    const all = { ...sessions, adaOktaAgain };
    // bob's session is named too, but is not ada's: it stays.
    const idHashes = [sessions.adaOkta.idHash, sessions.bobOkta.idHash];
    assert.equal(await revokeSessionsForConnectionUser(db, okta, ada.id, t0 + hour, { idHashes }), 1);
    const state = await revokedAt(db, all);
    assert.equal(state.adaOkta, t0 + hour);
    assert.equal(state.adaOktaAgain, null);
    assert.equal(state.bobOkta, null);
    assert.equal(
      await revokeSessionsForConnectionUser(db, okta, ada.id, t0 + hour, { idHashes: [] }),
      0,
      "an empty list ends nothing, not everything",
    );
    assert.equal(await revokedAt(db, all).then((s) => s.adaOktaAgain), null);
    assert.equal(
      await revokeSessionsForConnectionUser(db, okta, ada.id, t0 + hour),
      1,
      "without a list, the rest",
    );
  });

  test("touchSession: the database decides the idle timeout, so a use another instance recorded counts", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test", "admin");
    const session = newSession(ada, { organizationId: acme.id });
    await insertSession(db, session);
    const idle = hour;
    // Instance B sees a use at +50 min.
    assert.equal(await touchSession(db, session.idHash, t0 + 50 * minute, t0 + 50 * minute - idle), true);
    // Instance A, whose cache still says "last used at t0", asks at +100 min: still live.
    assert.equal(await touchSession(db, session.idHash, t0 + 100 * minute, t0 + 100 * minute - idle), true);
    // Unused for more than the idle timeout: over, and stays over.
    assert.equal(await touchSession(db, session.idHash, t0 + 161 * minute, t0 + 161 * minute - idle), false);
    const revoked = newSession(ada, { organizationId: acme.id });
    await insertSession(db, revoked);
    await revokeSession(db, revoked.idHash, t0 + minute);
    assert.equal(await touchSession(db, revoked.idHash, t0 + 2 * minute, t0 + 2 * minute - idle), false);
  });

  test("revokeSessionsForUser ends every session of the account in every organization", async () => {
    const { db } = database().store;
    const { ada, sessions } = await seedSessionsEverywhere(db);
    assert.equal(await revokeSessionsForUser(db, ada.id, t0 + hour), 3);
    assert.deepEqual(await revokedAt(db, sessions), {
      adaOkta: t0 + hour,
      adaPassword: t0 + hour,
      adaInGlobex: t0 + hour,
      adaExpired: null,
      bobOkta: null,
      bobRevoked: t0,
      gilEntra: null,
    });
  });

  test("revokeSessionsForUser can keep the session that asked", async () => {
    const { db } = database().store;
    const { ada, sessions } = await seedSessionsEverywhere(db);
    const kept = sessions.adaPassword.idHash;
    assert.equal(await revokeSessionsForUser(db, ada.id, t0 + hour, { exceptIdHash: kept }), 2);
    assert.ok(await findActiveSession(db, kept, t0 + hour));
  });

  test("revokeSessionsForOrganization ends the sessions opened in that organization, whoever holds them", async () => {
    const { db } = database().store;
    const { acme, sessions } = await seedSessionsEverywhere(db);
    assert.equal(await revokeSessionsForOrganization(db, acme.id, t0 + hour), 3);
    assert.deepEqual(await revokedAt(db, sessions), {
      adaOkta: t0 + hour,
      adaPassword: t0 + hour,
      adaInGlobex: null,
      adaExpired: null,
      bobOkta: t0 + hour,
      bobRevoked: t0,
      gilEntra: null,
    });
  });

  test("concurrent bulk revocations count each session once", async () => {
    const { db } = database().store;
    const { acme, sessions } = await seedSessionsEverywhere(db);
    const counts = await Promise.all(
      Array.from({ length: 5 }, () => revokeSessionsForOrganization(db, acme.id, t0 + hour)),
    );
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      3,
    );
    assert.equal((await revokedAt(db, sessions)).gilEntra, null);
  });

  test("deleteExpiredSessions removes expired sessions and keeps live ones", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const expired = newSession(ada, { expiresAt: t0 + hour });
    const expiringNow = newSession(ada, { expiresAt: t0 + 2 * hour });
    const live = newSession(ada, { expiresAt: t0 + 3 * hour });
    for (const session of [expired, expiringNow, live]) await insertSession(db, session);
    assert.equal(await deleteExpiredSessions(db, t0 + 2 * hour), 2);
    const left = await db.selectFrom("sessions").select("id_hash").execute();
    assert.deepEqual(left, [{ id_hash: live.idHash }]);
    assert.equal(await deleteExpiredSessions(db, t0 + 2 * hour), 0);
  });
});
