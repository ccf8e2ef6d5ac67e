/**
 * The documented secret-key rotation across several instances sharing one database: while the
 * instances restart one by one, some run the new configuration and some the old, and a browser
 * (or a sealed value) goes from any instance to any other.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Browser, csrfToken } from "./support/browserless.js";
import { type TestDatabase, testDatabases } from "./support/databases.js";
import { freePort, startGatehouse, type TestGatehouse } from "./support/gatehouse.js";
import { ADMIN, seedAcme } from "./support/sso.js";

const oldKey = randomBytes(32).toString("base64");
const newKey = randomBytes(32).toString("base64");

/** The three configurations an instance goes through, in the order of docs/operations.md. */
const STAGES = {
  before: { GATEHOUSE_SECRET_KEY: oldKey },
  phase1: { GATEHOUSE_SECRET_KEY: oldKey, GATEHOUSE_PREVIOUS_SECRET_KEYS: newKey },
  phase2: { GATEHOUSE_SECRET_KEY: newKey, GATEHOUSE_PREVIOUS_SECRET_KEYS: oldKey },
} as const;

describe("rotating the secret key on several instances (rolling restarts)", () => {
  let database: TestDatabase;
  let baseUrl: string;
  const open: TestGatehouse[] = [];

  async function instance(stage: keyof typeof STAGES): Promise<TestGatehouse> {
    const gh = await startGatehouse({
      databaseUrl: database.url,
      // Behind one load balancer: one public URL, whichever instance answers.
      env: { ...database.env, ...STAGES[stage], GATEHOUSE_BASE_URL: baseUrl },
    });
    open.push(gh);
    return gh;
  }

  async function closeAll(): Promise<void> {
    for (const gh of open.splice(0)) await gh.close();
  }

  before(async () => {
    const dialect =
      testDatabases().find(
        (d) => d.name === (process.env.GATEHOUSE_TEST_DATABASE === "postgres" ? "postgres" : "sqlite"),
      ) ?? testDatabases()[0];
    assert.ok(dialect);
    database = await dialect.create();
    await database.store.close();
    baseUrl = `http://localhost:${await freePort()}`;
    const seeding = await instance("before");
    await seedAcme(seeding);
    await closeAll();
  });
  after(async () => {
    await closeAll();
    await database?.drop();
  });

  /** Each form step loaded from one instance and posted to the other; then the session read on each. */
  async function signInAcross(from: TestGatehouse, to: TestGatehouse): Promise<number[]> {
    const browser = new Browser();
    const loginPage = await browser.get(`${from.url}/login`);
    const step = await browser.post(`${to.url}/login`, {
      _csrf: csrfToken(loginPage.body),
      email: ADMIN.email,
    });
    if (step.status !== 200) return [step.status];
    const done = await browser.post(`${from.url}/login/password`, {
      _csrf: csrfToken(step.body),
      email: ADMIN.email,
      password: ADMIN.password,
    });
    const me = await Promise.all([from, to].map((gh) => browser.get(`${gh.url}/api/v1/me`)));
    return [step.status, done.status, ...me.map((answer) => answer.status)];
  }

  function sealedAcross(a: TestGatehouse, b: TestGatehouse): void {
    for (const [sealer, opener] of [
      [a, b],
      [b, a],
    ] as const) {
      const sealed = sealer.ctx.box.seal("client-secret", "connection:rolling");
      assert.equal(opener.ctx.box.open(sealed, "connection:rolling"), "client-secret");
    }
  }

  for (const [restarted, notYet] of [
    ["phase1", "before"],
    ["phase2", "phase1"],
  ] as const) {
    test(`${restarted} restarted on one instance, ${notYet} still on the other: forms, sessions and sealed values cross both ways`, async () => {
      const a = await instance(restarted);
      const b = await instance(notYet);
      try {
        assert.deepEqual(await signInAcross(a, b), [200, 303, 200, 200], "form from the restarted instance");
        assert.deepEqual(await signInAcross(b, a), [200, 303, 200, 200], "form from the other instance");
        sealedAcross(a, b);
      } finally {
        await closeAll();
      }
    });
  }

  test("phase 1 keeps sealing and signing with the current key: an instance that never heard of the new key opens it all", async () => {
    const a = await instance("phase1");
    const b = await instance("before");
    try {
      assert.equal(a.ctx.box.currentKeyId, b.ctx.box.currentKeyId);
      assert.equal(a.ctx.cookieSecret.equals(b.ctx.cookieSecret), true);
    } finally {
      await closeAll();
    }
  });

  test("skipping phase 1 (new key current on one instance, the other not restarted yet) breaks forms: why the procedure has two phases", async () => {
    const a = await instance("phase2");
    const b = await instance("before");
    try {
      const [status] = await signInAcross(a, b);
      assert.equal(status, 403);
      assert.throws(() => b.ctx.box.open(a.ctx.box.seal("x", "c"), "c"), /not configured/);
    } finally {
      await closeAll();
    }
  });
});
