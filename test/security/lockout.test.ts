import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hashPassword } from "../../src/crypto/password.js";
import { decidePasswordAttempt, type ThrottlePolicy } from "../../src/domain/password-throttle.js";
import { insertMembership } from "../../src/store/organizations.js";
import { insertUser, setPassword } from "../../src/store/users.js";
import { type Answer, Browser, csrfToken, errorCode } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";

// Runs on SQLite, and on PostgreSQL with GATEHOUSE_TEST_DATABASE=postgres.

/** The two-step password form from one client address (Gatehouse trusts the loopback proxy here). */
async function signInFrom(browser: Browser, gh: TestGatehouse, ip: string, email: string, password: string) {
  const headers = { "x-forwarded-for": ip };
  const page = await browser.request(`${gh.url}/login`, { headers });
  const step = await browser.request(`${gh.url}/login`, {
    method: "POST",
    headers,
    form: { _csrf: csrfToken(page.body), email },
  });
  if (step.status !== 200) return step;
  return browser.request(`${gh.url}/login/password`, {
    method: "POST",
    headers,
    form: { _csrf: csrfToken(step.body), email, password },
  });
}

async function addUser(gh: TestGatehouse, organizationId: string, email: string, password: string) {
  const now = gh.ctx.now();
  const user = await insertUser(gh.ctx.store.db, { email }, now);
  await setPassword(gh.ctx.store.db, user.id, await hashPassword(password), now);
  await insertMembership(gh.ctx.store.db, { organizationId, userId: user.id, role: "admin" }, now);
  return user;
}

const statuses = (answers: Answer[]) => answers.map((a) => a.status);

describe("lockouts a stranger could cause", () => {
  test("an address that used up its own limit cannot lock out the owners it keeps guessing", async () => {
    const gh = await startGatehouse({
      env: {
        GATEHOUSE_TRUST_PROXY: "loopback",
        GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "5",
        GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: "5",
      },
    });
    try {
      const { organizationId } = await seedAcme(gh);
      const second = { email: "second@acme.test", password: "another long passphrase" };
      await addUser(gh, organizationId, second.email, second.password);
      // The owner signed in from their laptop before.
      const laptop = new Browser();
      assert.equal((await signInFrom(laptop, gh, "198.51.100.1", ADMIN.email, ADMIN.password)).status, 303);

      const attacker = "203.0.113.66";
      for (let i = 0; i < 4; i++) {
        const answer = await signInFrom(new Browser(), gh, attacker, ADMIN.email, `guess ${i}`);
        assert.equal(answer.status, 401);
      }
      // The fifth failure limits the attacker's address; everything after is refused uncounted.
      assert.equal((await signInFrom(new Browser(), gh, attacker, second.email, "guess")).status, 401);
      for (let i = 0; i < 20; i++) {
        const target = i % 2 ? ADMIN.email : second.email;
        const answer = await signInFrom(new Browser(), gh, attacker, target, `more guesses ${i}`);
        assert.equal(answer.status, 429);
      }

      // The second admin had one failure: not delayed at all, from anywhere.
      const office = "198.51.100.2";
      assert.equal((await signInFrom(new Browser(), gh, office, second.email, second.password)).status, 303);
      // The owner's own browser is not delayed by the stranger's four failures either...
      assert.equal((await signInFrom(laptop, gh, office, ADMIN.email, ADMIN.password)).status, 303);
      // ...and a new browser would not have been delayed (4 < 5 failures).
      assert.equal((await signInFrom(new Browser(), gh, office, ADMIN.email, ADMIN.password)).status, 303);
    } finally {
      await gh.close();
    }
  });

  test("a browser that signed in before gets past the account's delay; a new one waits", async () => {
    const gh = await startGatehouse({
      env: {
        GATEHOUSE_TRUST_PROXY: "loopback",
        GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "1000",
        GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: "3",
      },
    });
    try {
      await seedAcme(gh);
      const laptop = new Browser();
      assert.equal((await signInFrom(laptop, gh, "198.51.100.1", ADMIN.email, ADMIN.password)).status, 303);
      // Guesses from many addresses, each waiting out the delay the last one earned.
      for (let i = 0; i < 6; i++) {
        const ip = `203.0.113.${i + 1}`;
        const answer = await signInFrom(new Browser(), gh, ip, ADMIN.email, `guess ${i}`);
        assert.equal(answer.status, 401);
        if (i < 5) gh.advance(5 * 60_000);
      }
      const stranger = await signInFrom(new Browser(), gh, "198.51.100.9", ADMIN.email, ADMIN.password);
      assert.equal(stranger.status, 429);
      assert.equal(errorCode(stranger.body), "AUTH_RATE_LIMITED");
      // A forged known-browser cookie is worth nothing.
      const forger = new Browser();
      const cookie = laptop.cookies().get("gh_device");
      assert.ok(cookie);
      forger.cookies().set("gh_device", cookie.replace(/^[^.]+/, "someone-else"));
      assert.equal((await signInFrom(forger, gh, "198.51.100.9", ADMIN.email, ADMIN.password)).status, 429);

      assert.equal((await signInFrom(laptop, gh, "198.51.100.9", ADMIN.email, ADMIN.password)).status, 303);
    } finally {
      await gh.close();
    }
  });

  test("concurrent correct sign-ins from one office address never lock it out", async () => {
    const gh = await startGatehouse({
      env: { GATEHOUSE_TRUST_PROXY: "loopback", GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "5" },
    });
    try {
      const { organizationId } = await seedAcme(gh);
      const people = Array.from({ length: 10 }, (_, i) => ({
        email: `colleague${i}@acme.test`,
        password: `colleague ${i} passphrase`,
      }));
      for (const p of people) await addUser(gh, organizationId, p.email, p.password);
      for (let round = 0; round < 2; round++) {
        const answers = await Promise.all(
          people.map((p) => signInFrom(new Browser(), gh, "198.51.100.7", p.email, p.password)),
        );
        assert.deepEqual(
          statuses(answers),
          people.map(() => 303),
          `round ${round + 1}`,
        );
      }
    } finally {
      await gh.close();
    }
  });
});

describe("decidePasswordAttempt", () => {
  const policy: ThrottlePolicy = { freeFailures: 5, baseDelayMs: 30_000, maxDelayMs: 900_000 };
  const t = 1_000_000_000;
  const cases: [failures: { count: number; lastAt: number } | undefined, now: number, expected: unknown][] = [
    [undefined, t, { allowed: true }],
    [{ count: 4, lastAt: t }, t, { allowed: true }],
    [{ count: 5, lastAt: t }, t, { allowed: false, retryAfterMs: 30_000 }],
    [{ count: 5, lastAt: t }, t + 30_000, { allowed: true }],
    [{ count: 6, lastAt: t }, t + 30_000, { allowed: false, retryAfterMs: 30_000 }],
    [{ count: 8, lastAt: t }, t, { allowed: false, retryAfterMs: 240_000 }],
    [{ count: 50, lastAt: t }, t, { allowed: false, retryAfterMs: 900_000 }],
    [{ count: 5000, lastAt: t }, t + 900_000, { allowed: true }],
  ];
  for (const [failures, now, expected] of cases) {
    test(`${JSON.stringify(failures)} at +${now - t} ms → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(decidePasswordAttempt(failures, policy, now), expected);
    });
  }
});
