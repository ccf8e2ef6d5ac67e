import assert from "node:assert/strict";
import { test } from "node:test";
import { FAILING_GRACE_MS } from "../../src/domain/organization-domains.js";
import { findConnectionById, findEnabledConnectionForDomain } from "../../src/store/connections.js";
import {
  deleteDomainRow,
  findDomainByName,
  findDomainOwnerOrganization,
  insertDomain,
  listDomains,
  recordDomainCheck,
} from "../../src/store/domains.js";
import { useFreshDatabase, withEachDatabase } from "../support/databases.js";
import { day, isUniqueViolation, seedConnection, seedOrganization, t0 } from "./fixtures.js";

withEachDatabase("store: organization domains", (dialect) => {
  const database = useFreshDatabase(dialect);

  test("a domain is verified by at most one organization; others may hold it pending", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const initech = await seedOrganization(db, "initech");
    const operator = { by: "operator" as const, userId: null };
    await insertDomain(db, { organizationId: acme.id, domain: "shared.test", verifiedBy: operator }, t0);
    await insertDomain(db, { organizationId: globex.id, domain: "shared.test" }, t0);
    await insertDomain(db, { organizationId: initech.id, domain: "shared.test" }, t0);
    await assert.rejects(
      insertDomain(db, { organizationId: initech.id, domain: "other.test", verifiedBy: operator }, t0).then(
        () => insertDomain(db, { organizationId: globex.id, domain: "other.test", verifiedBy: operator }, t0),
      ),
      isUniqueViolation,
    );
    // A pending holder cannot turn verified while the owner holds it: the database refuses.
    const pending = await findDomainByName(db, globex.id, "shared.test");
    assert.ok(pending);
    await assert.rejects(
      recordDomainCheck(
        db,
        pending.id,
        "pending",
        { state: "verified", failingSince: null, outcome: "verified" },
        t0,
      ),
      isUniqueViolation,
    );
    // Nor may the owner's domain, failing, be taken: failing still owns.
    const owned = await findDomainByName(db, acme.id, "shared.test");
    assert.ok(owned);
    assert.equal(
      await recordDomainCheck(
        db,
        owned.id,
        "verified",
        { state: "failing", failingSince: t0, outcome: "no_record" },
        t0,
      ),
      true,
    );
    await assert.rejects(
      recordDomainCheck(
        db,
        pending.id,
        "pending",
        { state: "verified", failingSince: null, outcome: "verified" },
        t0,
      ),
      isUniqueViolation,
    );
    assert.deepEqual(await findDomainOwnerOrganization(db, "shared.test"), {
      organizationId: acme.id,
      state: "failing",
    });
    // Once the owner removes it, the next organization may verify it.
    assert.equal(await deleteDomainRow(db, acme.id, owned.id), true);
    assert.equal(
      await recordDomainCheck(
        db,
        pending.id,
        "pending",
        { state: "verified", failingSince: null, outcome: "verified", verified: { by: "dns", userId: null } },
        t0 + day,
      ),
      true,
    );
    const moved = await findDomainByName(db, globex.id, "shared.test");
    assert.equal(moved?.state, "verified");
    assert.equal(moved?.verifiedBy, "dns");
    assert.equal(moved?.verifiedAt, t0 + day);
  });

  test("one organization holds a domain once", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    await insertDomain(db, { organizationId: acme.id, domain: "acme.test" }, t0);
    await assert.rejects(
      insertDomain(db, { organizationId: acme.id, domain: "acme.test" }, t0),
      isUniqueViolation,
    );
  });

  test("a verification token is at least 128 bits, and differs per organization and domain", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const globex = await seedOrganization(db, "globex");
    const a = await insertDomain(db, { organizationId: acme.id, domain: "shared.test" }, t0);
    const b = await insertDomain(db, { organizationId: globex.id, domain: "shared.test" }, t0);
    const c = await insertDomain(db, { organizationId: acme.id, domain: "acme.test" }, t0);
    for (const d of [a, b, c]) assert.ok(Buffer.from(d.verificationToken, "base64url").length >= 16);
    assert.equal(new Set([a, b, c].map((d) => d.verificationToken)).size, 3);
  });

  test("the takeover: a connection listing a pending domain neither routes nor enforces", async () => {
    const { db } = database().store;
    const attacker = await seedOrganization(db, "attacker");
    const id = await seedConnection(db, attacker, {
      name: "Attacker IdP",
      domains: ["gmail.test"],
      pending: true,
    });
    assert.equal(await findEnabledConnectionForDomain(db, "gmail.test", t0), undefined);
    const connection = await findConnectionById(db, id);
    assert.deepEqual(connection?.domainStatuses, [
      { organizationId: attacker.id, domain: "gmail.test", state: "pending", failingSince: null },
    ]);
    assert.deepEqual(
      (await listDomains(db, attacker.id)).map((d) => [d.domain, d.state]),
      [["gmail.test", "pending"]],
    );
  });

  test("several organizations list one pending domain; only the verified owner's connection routes", async () => {
    const { db } = database().store;
    const owner = await seedOrganization(db, "owner");
    const squatter = await seedOrganization(db, "squatter");
    await seedConnection(db, squatter, { name: "Squatter IdP", domains: ["owner.test"], pending: true });
    const ownerConnection = await seedConnection(db, owner, { name: "Owner IdP", domains: ["owner.test"] });
    assert.equal((await findEnabledConnectionForDomain(db, "owner.test", t0))?.id, ownerConnection);
  });

  test("a failing domain routes through the grace period, then stops", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const id = await seedConnection(db, acme, { name: "Acme IdP", domains: ["acme.test"] });
    const domain = await findDomainByName(db, acme.id, "acme.test");
    assert.ok(domain);
    await recordDomainCheck(
      db,
      domain.id,
      "verified",
      { state: "failing", failingSince: t0, outcome: "no_record" },
      t0,
    );
    assert.equal((await findEnabledConnectionForDomain(db, "acme.test", t0 + FAILING_GRACE_MS - 1))?.id, id);
    assert.equal(await findEnabledConnectionForDomain(db, "acme.test", t0 + FAILING_GRACE_MS), undefined);
  });

  test("removing a domain takes it off the organization's connections", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const id = await seedConnection(db, acme, { name: "Acme IdP", domains: ["acme.test", "acme.example"] });
    const domain = await findDomainByName(db, acme.id, "acme.test");
    assert.ok(domain);
    assert.equal(await deleteDomainRow(db, acme.id, domain.id), true);
    assert.deepEqual((await findConnectionById(db, id))?.domains, ["acme.example"]);
    assert.equal(await findEnabledConnectionForDomain(db, "acme.test", t0), undefined);
    // A connection left without domains is still found by id, listing none.
    const other = await findDomainByName(db, acme.id, "acme.example");
    assert.ok(other);
    await deleteDomainRow(db, acme.id, other.id);
    assert.deepEqual((await findConnectionById(db, id))?.domains, []);
  });

  test("a state change is written once when two checks race", async () => {
    const { db } = database().store;
    const acme = await seedOrganization(db, "acme");
    const domain = await insertDomain(db, { organizationId: acme.id, domain: "acme.test" }, t0);
    const verified = { state: "verified" as const, failingSince: null, outcome: "verified" as const };
    const results = await Promise.all([
      recordDomainCheck(db, domain.id, "pending", verified, t0),
      recordDomainCheck(db, domain.id, "pending", verified, t0),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
  });
});
