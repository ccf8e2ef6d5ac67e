import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { clientNetwork } from "../../src/domain/client-network.js";
import { Browser, csrfToken } from "../support/browserless.js";
import { startGatehouse } from "../support/gatehouse.js";
import { seedAcme } from "../support/sso.js";

describe("clientNetwork", () => {
  const cases: [string, string][] = [
    ["203.0.113.5", "203.0.113.5"],
    ["::ffff:203.0.113.5", "203.0.113.5"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:DB8:0001:0002:abcd::1", "2001:db8:1:2::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
  ];
  for (const [ip, expected] of cases)
    test(`${ip} → ${expected}`, () => assert.equal(clientNetwork(ip), expected));
});

test("password failures from one IPv6 /64 share one limit, whichever address in it they come from", async () => {
  const gh = await startGatehouse({
    env: { GATEHOUSE_TRUST_PROXY: "loopback", GATEHOUSE_PASSWORD_ATTEMPTS_PER_IP: "3" },
  });
  try {
    await seedAcme(gh);
    const attempt = async (ip: string) => {
      const browser = new Browser();
      const headers = { "x-forwarded-for": ip };
      const page = await browser.request(`${gh.url}/login`, { headers });
      return browser.request(`${gh.url}/login/password`, {
        method: "POST",
        headers,
        form: { _csrf: csrfToken(page.body), email: "nobody@acme.test", password: "a wrong password" },
      });
    };
    for (const suffix of ["1", "2", "3"])
      assert.equal((await attempt(`2001:db8:1:2::${suffix}`)).status, 401);
    assert.equal((await attempt("2001:db8:1:2:ffff::99")).status, 429);
    assert.equal((await attempt("2001:db8:1:3::1")).status, 401, "the next /64 is someone else");
  } finally {
    await gh.close();
  }
});
