import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { SessionCache } from "../../src/session/cache.js";
import { checkSession } from "../../src/session/validate.js";
import { deleteConnectionRow } from "../../src/store/connections.js";
import { openStore, type Store } from "../../src/store/database.js";
import {
  deleteExpiredSessions,
  insertSession,
  revokeNonSsoSessionsForDomains,
  revokeSession,
  revokeSessionsForConnection,
  revokeSessionsForOrganization,
  revokeSessionsForUser,
} from "../../src/store/sessions.js";
import { type TestDatabase, useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { refusedWithinRunnableTime } from "../support/latency-bound.js";
import { hour, minute, newSession, seedConnection, seedMember, seedOrganization, t0 } from "./fixtures.js";

/** One Gatehouse instance as the session check sees it: its own store and its own cache. */
interface Instance {
  store: Store;
  sessionCache: SessionCache;
  now: () => number;
  config: { sessionIdleTimeoutSeconds: number };
  check(idHash: string): ReturnType<typeof checkSession>;
}

function instanceOn(store: Store, capacity = 1000): Instance {
  const instance: Instance = {
    store,
    sessionCache: new SessionCache(capacity, () => store.sessionChanges()),
    now: () => t0 + minute,
    config: { sessionIdleTimeoutSeconds: 2 * 3600 },
    check: (idHash) => checkSession(instance, idHash),
  };
  return instance;
}

/** Waits until the instance's cache may answer (PostgreSQL: its LISTEN connection is up). */
async function untilTrusted(instance: Instance, boundMs = 5000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!instance.sessionCache.trusted()) {
    if (Date.now() > deadline) throw new Error(`cache not trusted within ${boundMs} ms`);
    await sleep(5);
  }
}

/**
 * Polls until the instance refuses the session, for at most `boundMs` after the change committed:
 * how long another instance may still accept a revoked session.
 */
async function refusedWithin(instance: Instance, idHash: string, boundMs = 100): Promise<void> {
  await refusedWithinRunnableTime(
    async () => (await instance.check(idHash)) === undefined,
    boundMs,
    "the session",
  );
}

withEachDatabase("session cache across instances", (dialect) => {
  const database = useFreshDatabase(dialect);
  let others: Store[] = [];

  /** A second instance on the same database (on SQLite: another connection, as a CLI would be). */
  function two(db: TestDatabase): [Instance, Instance] {
    // B waits a while before reconnecting its notification connection, so that a test can act
    // while it is down.
    const store = openStore(db.url, { changeFeedReconnectDelayMs: 500 });
    others.push(store);
    return [instanceOn(db.store), instanceOn(store)];
  }

  test.afterEach(async () => {
    for (const store of others) await store.close();
    others = [];
  });

  async function cachedSession(a: Instance, b: Instance, role: "member" | "admin" = "member") {
    const { db } = a.store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test", role);
    const session = newSession(ada, { organizationId: acme.id });
    await insertSession(db, session);
    await Promise.all([untilTrusted(a), untilTrusted(b)]);
    for (const instance of [a, b]) {
      assert.equal((await instance.check(session.idHash))?.userId, ada.id);
      assert.equal(instance.sessionCache.size, 1, "kept after the first check");
    }
    return { acme, ada, session };
  }

  test("a session revoked on one instance is refused by the other within 100 ms", async () => {
    const [a, b] = two(database());
    const { session } = await cachedSession(a, b);
    assert.ok(await revokeSession(a.store.db, session.idHash, t0 + minute));
    await refusedWithin(b, session.idHash);
    await refusedWithin(a, session.idHash);
  });

  test("a bulk revocation reaches every cached session", async () => {
    const [a, b] = two(database());
    const { ada, acme } = await cachedSession(a, b);
    const hashes: string[] = [];
    // More than one notification carries (100), so the announcement is "everything".
    for (let i = 0; i < 120; i++) {
      const session = newSession(ada, { organizationId: acme.id });
      await insertSession(a.store.db, session);
      hashes.push(session.idHash);
    }
    // On SQLite, B sees A's writes as a new data version and starts over: check after them.
    await eventually(async () => {
      for (const idHash of hashes) await b.check(idHash);
      return b.sessionCache.size >= 120;
    });
    assert.equal(
      await revokeNonSsoSessionsForDomains(a.store.db, ["acme.test"], undefined, t0 + minute),
      121,
    );
    for (const idHash of [hashes[0] as string, hashes[119] as string]) await refusedWithin(b, idHash);
  });

  test("sign out everywhere, per user, organization and connection, reaches the other instance", async () => {
    const [a, b] = two(database());
    const { db } = a.store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test");
    const connectionId = await seedConnection(db, acme, { domains: ["acme.test"] });
    await untilTrusted(b);
    const revocations = [
      () => revokeSessionsForUser(db, ada.id, t0 + minute),
      () => revokeSessionsForOrganization(db, acme.id, t0 + minute),
      () => revokeSessionsForConnection(db, connectionId, t0 + minute),
    ];
    for (const revoke of revocations) {
      const session = newSession(ada, { organizationId: acme.id, method: "sso", connectionId });
      await insertSession(db, session);
      await eventually(async () => {
        await b.check(session.idHash);
        return b.sessionCache.get(session.idHash, t0 + minute) !== undefined;
      });
      assert.equal(await revoke(), 1);
      await refusedWithin(b, session.idHash);
    }
  });

  test("a role change, an email change and a removal are not served stale", async () => {
    const [a, b] = two(database());
    const { ada, acme, session } = await cachedSession(a, b, "admin");
    await a.store.db
      .updateTable("memberships")
      .set({ role: "member" })
      .where("user_id", "=", ada.id)
      .execute();
    await eventually(async () => (await b.check(session.idHash))?.role === "member");

    await a.store.db.updateTable("users").set({ email: "ada@new.test" }).where("id", "=", ada.id).execute();
    await eventually(async () => (await b.check(session.idHash))?.email === "ada@new.test");

    await a.store.db
      .deleteFrom("memberships")
      .where("user_id", "=", ada.id)
      .where("organization_id", "=", acme.id)
      .execute();
    await eventually(async () => (await b.check(session.idHash))?.role === null);
    assert.equal(b.sessionCache.size, 0, "a session without its membership is not kept");
  });

  test("a renamed or deleted connection is not served stale", async () => {
    const [a, b] = two(database());
    const { db } = a.store;
    const acme = await seedOrganization(db, "acme");
    const ada = await seedMember(db, acme, "ada@acme.test");
    const connectionId = await seedConnection(db, acme, { name: "Acme Okta", domains: ["acme.test"] });
    const session = newSession(ada, { organizationId: acme.id, method: "sso", connectionId });
    await insertSession(db, session);
    await untilTrusted(b);
    assert.equal((await b.check(session.idHash))?.connectionName, "Acme Okta");
    await db.updateTable("connections").set({ name: "Acme Entra" }).where("id", "=", connectionId).execute();
    await eventually(async () => (await b.check(session.idHash))?.connectionName === "Acme Entra");
    await db.transaction().execute((trx) => deleteConnectionRow(trx, acme.id, connectionId));
    await eventually(async () => (await b.check(session.idHash))?.connectionId === null);
  });

  test("once caughtUp resolves, every instance's cache holds what was committed before, with no wait", async () => {
    const [a, b] = two(database());
    const { ada, acme, session } = await cachedSession(a, b, "admin");
    // Rounds, since a notification read before the next check by chance proves nothing.
    for (let round = 0; round < 10; round++) {
      const other = newSession(ada, { organizationId: acme.id });
      await insertSession(a.store.db, other);
      for (const instance of [a, b]) assert.ok(await instance.check(other.idHash));
      assert.ok(await revokeSession(a.store.db, other.idHash, t0 + minute));
      for (const instance of [a, b]) {
        await instance.sessionCache.caughtUp();
        assert.equal(instance.sessionCache.get(other.idHash, t0 + minute), undefined, `round ${round}`);
      }
    }
    await a.store.db
      .updateTable("memberships")
      .set({ role: "member" })
      .where("user_id", "=", ada.id)
      .execute();
    await a.sessionCache.caughtUp();
    assert.equal(a.sessionCache.get(session.idHash, t0 + minute), undefined, "a role change drops the entry");
    assert.equal((await a.check(session.idHash))?.role, "member");
  });

  test("an expired session is refused from the cache, and purging it announces nothing", async () => {
    const store = database().store;
    const instance = instanceOn(store);
    const acme = await seedOrganization(store.db, "acme");
    const ada = await seedMember(store.db, acme, "ada@acme.test");
    const session = newSession(ada, { organizationId: acme.id, expiresAt: t0 + hour });
    await insertSession(store.db, session);
    await untilTrusted(instance);
    assert.ok(await instance.check(session.idHash));
    assert.equal(instance.sessionCache.get(session.idHash, t0 + hour), undefined);
    assert.equal(await deleteExpiredSessions(store.db, t0 + hour), 1);
  });

  test("the cache keeps at most its capacity, least recently used out first", async () => {
    const store = database().store;
    const instance = instanceOn(store, 2);
    const acme = await seedOrganization(store.db, "acme");
    const ada = await seedMember(store.db, acme, "ada@acme.test");
    const sessions = [newSession(ada), newSession(ada), newSession(ada)];
    for (const session of sessions) await insertSession(store.db, session);
    await untilTrusted(instance);
    const [first, second, third] = sessions.map((s) => s.idHash) as [string, string, string];
    await instance.check(first);
    await instance.check(second);
    await instance.check(first);
    await instance.check(third);
    assert.equal(instance.sessionCache.size, 2);
    assert.ok(instance.sessionCache.get(first, t0 + minute));
    assert.equal(instance.sessionCache.get(second, t0 + minute), undefined);
  });

  /**
   * Holds back every write to the sessions until released: on SQLite the store's only
   * connection is held; on PostgreSQL another connection locks the table.
   */
  async function writesHeld(store: Store): Promise<() => Promise<void>> {
    let release: (value?: unknown) => void = () => undefined;
    const released = new Promise((resolve) => {
      release = resolve;
    });
    let held: (value?: unknown) => void = () => undefined;
    const holding = new Promise((resolve) => {
      held = resolve;
    });
    let done: Promise<unknown>;
    if (dialect.name === "sqlite") {
      done = store.db.connection().execute(async () => {
        held();
        await released;
      });
    } else {
      const other = openStore(database().url);
      others.push(other);
      done = other.db.transaction().execute(async (trx) => {
        await sql`lock table sessions in exclusive mode`.execute(trx);
        held();
        await released;
      });
    }
    await holding;
    return async () => {
      release();
      await done;
    };
  }

  const WAITED = Symbol("waited");
  const withoutWaiting = <T>(answer: Promise<T>) => Promise.race([answer, sleep(1500).then(() => WAITED)]);

  /** One instance with one session in its cache, last used at t0. */
  async function oneCachedSession() {
    const store = database().store;
    const instance = instanceOn(store);
    const acme = await seedOrganization(store.db, "acme");
    const ada = await seedMember(store.db, acme, "ada@acme.test");
    const session = newSession(ada, { organizationId: acme.id });
    await insertSession(store.db, session);
    await untilTrusted(instance);
    assert.ok(await instance.check(session.idHash));
    return { store, instance, ada, session };
  }

  test("a due last use within the idle timeout is written without the check waiting for it", async () => {
    const { store, instance, ada, session } = await oneCachedSession();
    // Last used at t0, a 2-hour idle timeout: two minutes later the use is due, and well inside.
    instance.now = () => t0 + 2 * minute;
    const release = await writesHeld(store);
    try {
      const answer = await withoutWaiting(instance.check(session.idHash));
      assert.notEqual(answer, WAITED, "answered while the write could not be made");
      assert.equal((answer as Awaited<ReturnType<Instance["check"]>>)?.userId, ada.id);
    } finally {
      await release();
    }
    await eventually(async () => {
      const row = await store.db
        .selectFrom("sessions")
        .select("last_seen_at")
        .where("id_hash", "=", session.idHash)
        .executeTakeFirstOrThrow();
      return Number(row.last_seen_at) === t0 + 2 * minute;
    }, 3000);
  });

  test("a session past its idle timeout as far as the instance knows waits for the database's answer", async () => {
    const { store, instance, session } = await oneCachedSession();
    instance.now = () => t0 + 3 * hour;
    const release = await writesHeld(store);
    const answer = instance.check(session.idHash);
    try {
      assert.equal(await withoutWaiting(answer), WAITED, "not answered before the database decided");
    } finally {
      await release();
    }
    assert.equal(await answer, undefined, "idle for three hours against a two-hour timeout");
    assert.equal(instance.sessionCache.get(session.idHash, t0 + 3 * hour), undefined, "and forgotten");
  });

  if (dialect.name === "postgres") {
    test("without its notification connection the cache is not trusted, and it starts over after reconnecting", async () => {
      const [a, b] = two(database());
      const { session } = await cachedSession(a, b);
      const { rows } = await sql<{ channel: string }>`
        select gh_session_changes_channel(current_schema()) as channel`.execute(a.store.db);
      const listener = `gatehouse listener ${rows[0]?.channel}`;
      // Both instances listen; cutting every listener of this schema is what a restart does.
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${listener}`.execute(
        a.store.db,
      );
      await eventually(async () => !b.sessionCache.trusted());
      assert.equal(b.sessionCache.size, 0, "emptied when the connection was lost");
      assert.equal(await withoutWaiting(b.sessionCache.caughtUp()), undefined, "nothing to wait for");
      // Revoked while nobody listens: the notification is lost, and the check reads the database.
      assert.ok(await revokeSession(a.store.db, session.idHash, t0 + minute));
      assert.equal(await b.check(session.idHash), undefined);
      await untilTrusted(b);
      assert.equal(await b.check(session.idHash), undefined);
    });
  }
});

async function eventually(condition: () => Promise<boolean>, boundMs = 1000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`not true within ${boundMs} ms`);
    await sleep(2);
  }
}
