import assert from "node:assert/strict";
import { test } from "node:test";
import { findApiKeyByHash, insertApiKey, touchApiKey } from "../../src/store/api-keys.js";
import {
  findIdentity,
  findIdentityWithMemberships,
  insertIdentity,
  touchIdentity,
} from "../../src/store/identities.js";
import {
  findMembershipOfUser,
  findOrganizationById,
  findOrganizationBySlug,
  insertMembership,
  insertOrganization,
} from "../../src/store/organizations.js";
import {
  findPasswordLogin,
  findUserByEmail,
  findUserById,
  insertUser,
  listOrganizationUsers,
  setPassword,
} from "../../src/store/users.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import {
  hour,
  isUniqueViolation,
  minute,
  seedConnection,
  seedMember,
  seedOrganization,
  t0,
} from "./fixtures.js";

withEachDatabase("store: organizations and memberships", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("an organization is found by slug and by id, with its creation time as a number", async () => {
    const { db } = database().store;
    const created = await insertOrganization(db, { slug: "acme", name: "Acme" }, t0);
    assert.deepEqual(created, { id: created.id, slug: "acme", name: "Acme", createdAt: t0 });
    assert.deepEqual(await findOrganizationBySlug(db, "acme"), created);
    assert.deepEqual(await findOrganizationById(db, created.id), created);
    assert.equal(await findOrganizationBySlug(db, "globex"), undefined);
    assert.equal(await findOrganizationById(db, "00000000-0000-0000-0000-000000000000"), undefined);
  });

  test("an organization slug is taken once", async () => {
    const { db } = database().store;
    await insertOrganization(db, { slug: "acme", name: "Acme" }, t0);
    await assert.rejects(insertOrganization(db, { slug: "acme", name: "Other Acme" }, t0), isUniqueViolation);
  });

  test("a user's membership comes with the organization and the role", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const admin = await seedMember(db, acme, "admin@acme.test", "admin");
    assert.deepEqual(await findMembershipOfUser(db, admin.id), {
      organizationId: acme.id,
      organizationName: acme.name,
      organizationSlug: "acme",
      role: "admin",
    });
    const loner = await insertUser(db, { email: "loner@example.test" }, t0);
    assert.equal(await findMembershipOfUser(db, loner.id), undefined);
  });

  test("the first membership is the one that counts", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const user = await insertUser(db, { email: "both@example.test" }, t0);
    await insertMembership(db, { organizationId: globex.id, userId: user.id, role: "member" }, t0 + minute);
    await insertMembership(db, { organizationId: acme.id, userId: user.id, role: "owner" }, t0);
    assert.equal((await findMembershipOfUser(db, user.id))?.organizationSlug, "acme");
  });

  test("a user joins an organization once", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const user = await seedMember(db, acme, "dup@acme.test");
    await assert.rejects(
      insertMembership(db, { organizationId: acme.id, userId: user.id, role: "admin" }, t0),
      isUniqueViolation,
    );
  });
});

withEachDatabase("store: users", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("an email is stored lower-cased and found whatever its case", async () => {
    const { db } = database().store;
    const user = await insertUser(db, { email: "Ada.Lovelace@Acme.TEST", name: "Ada" }, t0);
    assert.equal(user.email, "ada.lovelace@acme.test");
    assert.deepEqual(await findUserByEmail(db, "ADA.LOVELACE@acme.test"), user);
    assert.deepEqual(await findUserById(db, user.id), user);
    assert.equal(await findUserByEmail(db, "ada@acme.test"), undefined);
    assert.equal(await findUserById(db, "00000000-0000-0000-0000-000000000000"), undefined);
  });

  test("a user without a name has name null", async () => {
    const { db } = database().store;
    const user = await insertUser(db, { email: "anon@acme.test" }, t0);
    assert.equal((await findUserById(db, user.id))?.name, null);
  });

  test("one account per email address, whatever the case", async () => {
    const { db } = database().store;
    await insertUser(db, { email: "ada@acme.test" }, t0);
    await assert.rejects(insertUser(db, { email: "ADA@Acme.Test" }, t0), isUniqueViolation);
  });

  test("findPasswordLogin yields the hash and organization in one look-up", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const user = await seedMember(db, acme, "ada@acme.test");
    assert.deepEqual(await findPasswordLogin(db, "ADA@acme.test"), {
      userId: user.id,
      email: "ada@acme.test",
      passwordHash: null,
      organizationId: acme.id,
    });
    await setPassword(db, user.id, "$argon2id$first", t0);
    assert.equal((await findPasswordLogin(db, "ada@acme.test"))?.passwordHash, "$argon2id$first");
    assert.equal(await findPasswordLogin(db, "nobody@acme.test"), undefined);
  });

  test("findPasswordLogin for a user without an organization has organizationId null", async () => {
    const { db } = database().store;
    const user = await insertUser(db, { email: "loner@example.test" }, t0);
    await setPassword(db, user.id, "$argon2id$x", t0);
    assert.deepEqual(await findPasswordLogin(db, "loner@example.test"), {
      userId: user.id,
      email: "loner@example.test",
      passwordHash: "$argon2id$x",
      organizationId: null,
    });
  });

  test("setPassword replaces the previous hash instead of adding a second one", async () => {
    const { db } = database().store;
    const user = await insertUser(db, { email: "ada@acme.test" }, t0);
    await setPassword(db, user.id, "$argon2id$first", t0);
    await setPassword(db, user.id, "$argon2id$second", t0 + hour);
    const rows = await db.selectFrom("password_credentials").selectAll().execute();
    assert.deepEqual(rows, [{ user_id: user.id, hash: "$argon2id$second", updated_at: t0 + hour }]);
  });

  test("listOrganizationUsers lists members by email with their roles and sign-in methods", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const connectionId = await seedConnection(db, acme, { domains: ["acme.test"] });
    const carol = await seedMember(db, acme, "carol@acme.test", "owner");
    const alice = await seedMember(db, acme, "alice@acme.test", "admin");
    const bob = await seedMember(db, acme, "bob@acme.test");
    const dave = await seedMember(db, acme, "dave@acme.test");
    await seedMember(db, globex, "eve@globex.test", "owner");
    await setPassword(db, alice.id, "$argon2id$a", t0);
    await setPassword(db, carol.id, "$argon2id$c", t0);
    await insertIdentity(
      db,
      {
        id: "identity-carol",
        userId: carol.id,
        providerKey: `connection:${connectionId}`,
        connectionId,
        subject: "carol",
        email: carol.email,
      },
      t0,
    );
    await insertIdentity(
      db,
      {
        id: "identity-bob",
        userId: bob.id,
        providerKey: "linkedin",
        connectionId: null,
        subject: "b",
        email: null,
      },
      t0,
    );

    const users = await listOrganizationUsers(db, acme.id);
    assert.deepEqual(
      users.map((u) => ({ email: u.email, role: u.role, methods: [...u.signInMethods].sort() })),
      [
        { email: "alice@acme.test", role: "admin", methods: ["password"] },
        { email: "bob@acme.test", role: "member", methods: ["linkedin"] },
        { email: "carol@acme.test", role: "owner", methods: ["password", "sso"] },
        { email: "dave@acme.test", role: "member", methods: [] },
      ],
    );
    assert.deepEqual(users[0], {
      id: alice.id,
      email: "alice@acme.test",
      name: "alice",
      givenName: null,
      familyName: null,
      role: "admin",
      createdAt: t0,
      signInMethods: ["password"],
      lastSignInAt: null,
    });
    assert.equal(users.find((u) => u.email === "carol@acme.test")?.lastSignInAt, t0);
    assert.equal(users[3]?.id, dave.id);
  });

  test("listOrganizationUsers of an organization without members is empty", async () => {
    const { db } = database().store;
    const empty = await seedOrganization(db, "empty");
    assert.deepEqual(await listOrganizationUsers(db, empty.id), []);
  });
});

withEachDatabase("store: identities", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("an identity is found by provider and subject, with its user's email", async () => {
    const { db } = database().store;
    const user = await insertUser(db, { email: "ada@acme.test" }, t0);
    await insertIdentity(
      db,
      {
        id: "i-1",
        userId: user.id,
        providerKey: "linkedin",
        connectionId: null,
        subject: "sub-1",
        email: "x@y.test",
      },
      t0,
    );
    assert.deepEqual(await findIdentity(db, "linkedin", "sub-1"), {
      id: "i-1",
      userId: user.id,
      email: "ada@acme.test",
    });
    assert.equal(await findIdentity(db, "linkedin", "sub-2"), undefined);
    assert.equal(await findIdentity(db, "connection:other", "sub-1"), undefined);
  });

  test("findIdentityWithMemberships yields the identity, its user's email and every organization of the user", async () => {
    const { db } = database().store;
    const user = await insertUser(db, { email: "ada@acme.test" }, t0);
    const base = { userId: user.id, connectionId: null, email: null };
    await insertIdentity(db, { ...base, id: "i-1", providerKey: "connection:c", subject: "s" }, t0);
    assert.deepEqual(await findIdentityWithMemberships(db, "connection:c", "s"), {
      id: "i-1",
      userId: user.id,
      userEmail: "ada@acme.test",
      userNames: { name: null, givenName: null, familyName: null },
      organizationIds: [],
      memberships: [],
    });
    const acme = await insertOrganization(db, { slug: "acme", name: "Acme" }, t0);
    const other = await insertOrganization(db, { slug: "other", name: "Other" }, t0);
    await insertMembership(db, { organizationId: acme.id, userId: user.id, role: "member" }, t0);
    await insertMembership(db, { organizationId: other.id, userId: user.id, role: "admin" }, t0);
    const found = await findIdentityWithMemberships(db, "connection:c", "s");
    assert.deepEqual(found?.organizationIds.sort(), [acme.id, other.id].sort());
    assert.deepEqual(
      found?.memberships.map((m) => `${m.organizationId}:${m.role}`).sort(),
      [`${acme.id}:member`, `${other.id}:admin`].sort(),
    );
    assert.equal(await findIdentityWithMemberships(db, "connection:c", "other-sub"), undefined);
  });

  test("a subject belongs to one identity per provider", async () => {
    const { db } = database().store;
    const ada = await insertUser(db, { email: "ada@acme.test" }, t0);
    const bob = await insertUser(db, { email: "bob@acme.test" }, t0);
    const base = { providerKey: "linkedin", connectionId: null, subject: "same", email: null };
    await insertIdentity(db, { ...base, id: "i-1", userId: ada.id }, t0);
    await assert.rejects(insertIdentity(db, { ...base, id: "i-2", userId: bob.id }, t0), isUniqueViolation);
    await insertIdentity(db, { ...base, id: "i-3", userId: bob.id, providerKey: "connection:c" }, t0);
  });

  test("touchIdentity records the sign-in time and the latest email", async () => {
    const { db } = database().store;
    const user = await insertUser(db, { email: "ada@acme.test" }, t0);
    await insertIdentity(
      db,
      {
        id: "i-1",
        userId: user.id,
        providerKey: "linkedin",
        connectionId: null,
        subject: "s",
        email: "old@acme.test",
      },
      t0,
    );
    await touchIdentity(db, "i-1", "new@acme.test", t0 + hour);
    const row = await db
      .selectFrom("identities")
      .selectAll()
      .where("id", "=", "i-1")
      .executeTakeFirstOrThrow();
    assert.equal(row.email, "new@acme.test");
    assert.equal(row.created_at, t0);
    assert.equal(row.last_sign_in_at, t0 + hour);
  });
});

withEachDatabase("store: API keys", (dialect) => {
  const database = useFreshDatabase(dialect);

  async function seedKey() {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await insertApiKey(
      db,
      { id: "key-1", organizationId: acme.id, name: "CI", keyHash: "hash-1", prefix: "ghk_abcd" },
      t0,
    );
    return acme;
  }

  test("a key is found by its hash, with its organization", async () => {
    const { db } = database().store;
    const acme = await seedKey();
    assert.deepEqual(await findApiKeyByHash(db, "hash-1"), {
      id: "key-1",
      name: "CI",
      organizationId: acme.id,
      organizationSlug: "acme",
      organizationName: acme.name,
      lastUsedAt: null,
    });
    assert.equal(await findApiKeyByHash(db, "hash-2"), undefined);
  });

  test("a revoked key is invisible", async () => {
    const { db } = database().store;
    await seedKey();
    await db
      .updateTable("api_keys")
      .set({ revoked_at: t0 + minute })
      .where("id", "=", "key-1")
      .execute();
    assert.equal(await findApiKeyByHash(db, "hash-1"), undefined);
  });

  test("a key hash is stored once", async () => {
    const { db } = database().store;
    const acme = await seedKey();
    await assert.rejects(
      insertApiKey(
        db,
        { id: "key-2", organizationId: acme.id, name: "Dup", keyHash: "hash-1", prefix: "p" },
        t0,
      ),
      isUniqueViolation,
    );
  });

  test("touchApiKey records a use at most once per interval", async () => {
    const { db } = database().store;
    await seedKey();
    const lastUsed = async () => (await findApiKeyByHash(db, "hash-1"))?.lastUsedAt;
    await touchApiKey(db, "key-1", t0 + minute, 5 * minute);
    assert.equal(await lastUsed(), t0 + minute);
    await touchApiKey(db, "key-1", t0 + 3 * minute, 5 * minute);
    assert.equal(await lastUsed(), t0 + minute);
    await touchApiKey(db, "key-1", t0 + 6 * minute, 5 * minute);
    assert.equal(await lastUsed(), t0 + 6 * minute);
  });
});
