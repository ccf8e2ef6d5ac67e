import assert from "node:assert/strict";
import { test } from "node:test";
import { metricsHeaders, startGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

// Runs on SQLite, and on PostgreSQL with GATEHOUSE_TEST_DATABASE=postgres.

async function auditRows(gh: Awaited<ReturnType<typeof startGatehouse>>, type: string) {
  const rows = await gh.ctx.store.db
    .selectFrom("audit_events")
    .select("id")
    .where("type", "=", type)
    .execute();
  return rows.length;
}

test("a flood of bogus callbacks, most of them rate limited, does not grow the audit log", async () => {
  const gh = await startGatehouse({ env: { GATEHOUSE_SSO_ATTEMPTS_PER_IP_PER_MINUTE: "10" } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const answer = await fetch(`${gh.url}/sso/oidc/callback?state=bogus-${i}&code=c`, {
        redirect: "manual",
      });
      statuses.push(answer.status);
    }
    // 90 refused, or fewer if the requests straddle a minute boundary (the limit's window).
    assert.ok(statuses.filter((s) => s === 429).length >= 80);
    assert.ok(statuses.every((s) => s < 500));
    // One row for the first unknown state and one for the first refusal (per window, so at
    // most twice that across a window boundary): not one per request.
    assert.ok((await auditRows(gh, "sign_in.sso")) <= 4, `${await auditRows(gh, "sign_in.sso")} rows`);
    const metrics = await (await fetch(`${gh.url}/metrics`, { headers: metricsHeaders })).text();
    assert.match(metrics, /gatehouse_sign_ins_total\{method="sso",outcome="failure"\} 100/);
  } finally {
    await gh.close();
  }
});

test("rate-limited password attempts are recorded once per address and window", async () => {
  const gh = await startGatehouse({ env: { GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "2" } });
  try {
    await seedAcme(gh);
    for (let i = 0; i < 30; i++) {
      const page = await fetch(`${gh.url}/login`);
      const cookie = page.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
      await fetch(`${gh.url}/login/password`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, email: "admin@acme.test", password: `guess ${i}` }),
        redirect: "manual",
      });
    }
    const rows = await gh.ctx.store.db
      .selectFrom("audit_events")
      .select("reason_code")
      .where("type", "=", "sign_in.password")
      .execute();
    assert.deepEqual(rows.map((r) => r.reason_code).sort(), [
      "AUTH_INVALID_CREDENTIALS",
      "AUTH_INVALID_CREDENTIALS",
      "AUTH_RATE_LIMITED",
    ]);
  } finally {
    await gh.close();
  }
});
