import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { domainToASCII } from "node:url";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { removeConsequence } from "../src/admin/enterprise-authentication/domain-remove.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";
import { challengeRecord, FAILING_GRACE_MS } from "../src/domain/organization-domains.js";
import { listAuditEvents } from "../src/store/audit.js";
import { findDomainByName, listDomains } from "../src/store/domains.js";
import { type Answer, Browser, csrfToken, errorCode, passwordSignIn } from "./support/browserless.js";
import { startDnsServer, type TestDnsServer } from "./support/dns-server.js";
import { verifyDomainsAsOperator } from "./support/domains.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";

/**
 * Administration > Enterprise Authentication > Domains over HTTP, verifying through a real DNS
 * server on loopback, and the Setup form's domain field. The Chromium walk-through is in
 * test/browser/domains.test.ts.
 */
const PASSWORD = "correct horse battery";
const DOMAINS = "/admin/enterprise-authentication/domains";
const OIDC = "/admin/enterprise-authentication/oidc";

let gh: TestGatehouse;
let dns: TestDnsServer;
let idp: DevIdp;

before(async () => {
  dns = await startDnsServer();
  gh = await startGatehouse({ env: { GATEHOUSE_DNS_SERVERS: dns.address, GATEHOUSE_DNS_TIMEOUT_MS: "300" } });
  idp = await startDevIdp({ port: 0, ...demoIdpSetup(`${gh.url}/`) });
});
after(async () => {
  await idp?.close();
  await gh?.close();
  await dns?.close();
});

interface Admin {
  browser: Browser;
  organizationId: string;
}

async function adminOf(slug: string): Promise<Admin> {
  const { organization } = await createOrganizationWithAdmin(gh.ctx, {
    slug,
    name: `${slug} Inc`,
    adminEmail: `admin@${slug}.test`,
    adminPassword: PASSWORD,
  });
  const browser = new Browser();
  assert.equal((await passwordSignIn(browser, gh.url, `admin@${slug}.test`, PASSWORD)).status, 303);
  return { browser, organizationId: organization.id };
}

async function addThroughForm(admin: Admin, domain: string): Promise<Answer> {
  const page = await admin.browser.get(`${gh.url}${DOMAINS}`);
  assert.equal(page.status, 200);
  return admin.browser.post(`${gh.url}${DOMAINS}`, { _csrf: csrfToken(page.body), domain });
}

async function domainId(admin: Admin, domain: string): Promise<string> {
  const row = await findDomainByName(gh.ctx.store.db, admin.organizationId, domain);
  assert.ok(row, `${domain} is a domain of the organization`);
  return row.id;
}

async function verifyThroughPage(admin: Admin, domain: string): Promise<Answer> {
  const page = await admin.browser.get(`${gh.url}${DOMAINS}`);
  return admin.browser.post(`${gh.url}${DOMAINS}/${await domainId(admin, domain)}/verify`, {
    _csrf: csrfToken(page.body),
  });
}

function outcomeOf(body: string): string | undefined {
  return /data-testid="verify-outcome" data-outcome="([a-z_]+)"/.exec(body)?.[1];
}

/** The `<section>` of one domain on the page. */
function cardOf(body: string, domain: string): string {
  const start = body.indexOf(`data-domain="${domain}" data-state=`);
  assert.ok(start >= 0, `the page shows ${domain}`);
  return body.slice(start, body.indexOf("</section>", start));
}

describe("the Domains page", () => {
  test("is reachable from Enterprise Authentication, and only by admins of the organization", async () => {
    const admin = await adminOf("nav");
    const intro = await admin.browser.get(`${gh.url}/admin/enterprise-authentication`);
    assert.match(intro.body, new RegExp(`href="${DOMAINS}"`));
    assert.match(intro.body, /No domains yet\./);
    const overview = await admin.browser.get(`${gh.url}/admin`);
    assert.match(overview.body, new RegExp(`href="${DOMAINS}"`));
    const signedOut = await new Browser().get(`${gh.url}${DOMAINS}`);
    assert.equal(signedOut.status, 303);
    assert.match(signedOut.location ?? "", /\/login\?return_to=/);
  });

  test("refuses public email providers, public suffixes and repeats beside the field, saying why", async () => {
    const admin = await adminOf("refusals");
    const cases = [
      ["gmail.com", 400, "DOMAIN_NOT_ALLOWED", /public email provider/],
      ["co.uk", 400, "DOMAIN_NOT_ALLOWED", /public suffix/],
      ["not a domain", 400, "DOMAIN_NOT_ALLOWED", /not a domain name/],
    ] as const;
    for (const [domain, status, code, reason] of cases) {
      const answer = await addThroughForm(admin, domain);
      assert.equal(answer.status, status, domain);
      assert.equal(errorCode(answer.body), code, domain);
      assert.match(answer.body, reason, domain);
      assert.match(answer.body, new RegExp(`id="field-domain" name="domain" type="text" value="${domain}"`));
    }
    assert.equal((await addThroughForm(admin, "refusals-corp.test")).status, 303);
    const again = await addThroughForm(admin, "REFUSALS-corp.test.");
    assert.equal(again.status, 409);
    assert.equal(errorCode(again.body), "CONFLICT");
    assert.deepEqual(
      (await listDomains(gh.ctx.store.db, admin.organizationId)).map((d) => d.domain),
      ["refusals-corp.test"],
    );
  });

  test("adding shows the TXT record to publish with copy buttons, an IDN in Unicode", async () => {
    const admin = await adminOf("idn");
    const IDN = domainToASCII("bücher-idn.test");
    assert.match(IDN, /^xn--/);
    const added = await addThroughForm(admin, "Bücher-idn.test");
    assert.equal(added.status, 303);
    const id = await domainId(admin, IDN);
    assert.equal(added.location, `${gh.url}${DOMAINS}?added=${id}#domain-${id}`);
    const page = await admin.browser.get(added.location ?? "");
    assert.match(page.body, /data-testid="domain-added"[^>]*>\s*<p><strong>Added bücher-idn\.test\./);
    const card = cardOf(page.body, IDN);
    assert.match(card, /<h2 class="section-title"><span data-field="domain-name">bücher-idn\.test<\/span>/);
    assert.match(card, /data-testid="domain-state">Pending verification</);
    const row = await findDomainByName(gh.ctx.store.db, admin.organizationId, IDN);
    assert.ok(row);
    const record = challengeRecord(row.domain, row.verificationToken);
    assert.equal(record.name, `_gatehouse-challenge.${IDN}`);
    for (const value of [record.name, record.value]) {
      const input = new RegExp(
        `<input id="(record-[a-z]+-${id})" type="text" value="${value}" readonly`,
      ).exec(card);
      assert.ok(input, `the record shows ${value}`);
      assert.match(card, new RegExp(`data-copy="#${input[1]}"`), "with a Copy button");
    }
    assert.match(card, /_gatehouse-challenge\.bücher-idn\.test/, "the name in Unicode too");
    assert.match(card, /<dd data-field="last-check"><span class="muted">never<\/span>/);
  });

  test("Verify answers exactly one outcome in plain words, each attempt audited", async () => {
    const admin = await adminOf("outcomes");
    assert.equal((await addThroughForm(admin, "outcomes-corp.test")).status, 303);
    const row = await findDomainByName(gh.ctx.store.db, admin.organizationId, "outcomes-corp.test");
    assert.ok(row);
    const record = challengeRecord(row.domain, row.verificationToken);

    const none = await verifyThroughPage(admin, "outcomes-corp.test");
    assert.equal(none.status, 200);
    assert.equal(outcomeOf(none.body), "no_record");
    assert.match(none.body, /No record found for outcomes-corp\.test\./);
    assert.match(cardOf(none.body, "outcomes-corp.test"), /UTC<\/time>: no record/);

    dns.set(record.name, { txt: [[`${record.value}.outcomes-corp.test`], ["v=spf1 -all"]] });
    const wrong = await verifyThroughPage(admin, "outcomes-corp.test");
    assert.equal(outcomeOf(wrong.body), "mismatch");
    assert.match(wrong.body, /but it does not match/);
    assert.match(
      wrong.body,
      new RegExp(
        `data-testid="found-records"><li><code>${record.value}\\.outcomes-corp\\.test</code></li></ul>`,
      ),
      "what was found is shown, the unrelated record left out",
    );
    assert.match(wrong.body, new RegExp(`It expects exactly <code>${record.value}</code>`));

    dns.set(record.name, { rcode: "SERVFAIL" });
    const failed = await verifyThroughPage(admin, "outcomes-corp.test");
    assert.equal(outcomeOf(failed.body), "dns_error");
    assert.match(failed.body, /The DNS lookup for outcomes-corp\.test failed<\/strong> \(ESERVFAIL\)/);
    assert.match(failed.body, /Try again in a minute/);

    dns.set(record.name, { txt: [[record.value.slice(0, 20), record.value.slice(20)]] });
    const verified = await verifyThroughPage(admin, "outcomes-corp.test");
    assert.equal(outcomeOf(verified.body), "verified");
    assert.match(verified.body, /outcomes-corp\.test is verified\./);
    const card = cardOf(verified.body, "outcomes-corp.test");
    assert.match(card, /data-state="verified" data-active="true"/);
    assert.match(card, /data-testid="domain-state">Verified</);
    assert.match(card, /Verified by its DNS record on <time/);
    assert.match(card, />Check now</);

    const checks = await listAuditEvents(gh.ctx.store.db, {
      organizationId: admin.organizationId,
      type: "domain.verification_checked",
      limit: 10,
    });
    assert.deepEqual(checks.map((e) => e.detail?.outcome).reverse(), [
      "no_record",
      "mismatch",
      "dns_error",
      "verified",
    ]);
    assert.ok(
      checks.every((e) => e.actorUserId !== null),
      "audited with the admin who clicked",
    );
    dns.set(record.name, undefined);
  });

  test("a domain another organization verified first: the record matches, the page says it stays theirs", async () => {
    const first = await adminOf("first");
    await verifyDomainsAsOperator(gh, first.organizationId, ["contested-corp.test"]);
    const second = await adminOf("second");
    assert.equal((await addThroughForm(second, "contested-corp.test")).status, 303, "held pending");
    const row = await findDomainByName(gh.ctx.store.db, second.organizationId, "contested-corp.test");
    assert.ok(row);
    const record = challengeRecord(row.domain, row.verificationToken);
    dns.set(record.name, { txt: [[record.value]] });
    const answer = await verifyThroughPage(second, "contested-corp.test");
    dns.set(record.name, undefined);
    assert.equal(outcomeOf(answer.body), "verified_elsewhere");
    assert.match(answer.body, /contested-corp\.test is verified by another organization\./);
    assert.match(cardOf(answer.body, "contested-corp.test"), /data-state="pending" data-active="false"/);
  });

  test("a failing domain says until when it keeps working, then that it stopped", async () => {
    const admin = await adminOf("failing");
    assert.equal((await addThroughForm(admin, "failing-corp.test")).status, 303);
    const row = await findDomainByName(gh.ctx.store.db, admin.organizationId, "failing-corp.test");
    assert.ok(row);
    const record = challengeRecord(row.domain, row.verificationToken);
    dns.set(record.name, { txt: [[record.value]] });
    assert.equal(outcomeOf((await verifyThroughPage(admin, "failing-corp.test")).body), "verified");
    dns.set(record.name, undefined);
    const gone = await verifyThroughPage(admin, "failing-corp.test");
    assert.equal(outcomeOf(gone.body), "no_record");
    const failing = await findDomainByName(gh.ctx.store.db, admin.organizationId, "failing-corp.test");
    assert.equal(failing?.state, "failing");
    const graceEnd = new Date((failing?.failingSince ?? 0) + FAILING_GRACE_MS).toISOString();
    const card = cardOf(gone.body, "failing-corp.test");
    assert.match(card, /data-testid="domain-state">Record missing</);
    assert.match(
      card,
      new RegExp(
        `The domain keeps working until <time datetime="${graceEnd}">${graceEnd.slice(0, 16).replace("T", " ")} UTC`,
      ),
    );
    assert.match(card, /data-testid="domain-record"/, "the record to publish again is shown");

    // Seven days on (moved in the database: the admin's session would not last that long).
    await gh.ctx.store.db
      .updateTable("organization_domains")
      .set({ failing_since: gh.ctx.now() - FAILING_GRACE_MS - 60_000 })
      .where("id", "=", row.id)
      .execute();
    const later = await admin.browser.get(`${gh.url}${DOMAINS}`);
    const stopped = cardOf(later.body, "failing-corp.test");
    assert.match(stopped, /data-active="false"/);
    assert.match(stopped, /failing-corp\.test stopped working on <time/);
  });

  test("Remove of a verified domain an enabled connection serves promises no password to those who have none", () => {
    const text = removeConsequence({ id: "d", domain: "acme.test", displayName: "acme.test", active: true }, [
      { name: "Acme Okta", enabled: true },
    ]);
    assert.match(text, /no longer sent to Acme Okta/);
    assert.match(text, /those with a password or LinkedIn sign in with it again/);
    assert.match(text, /single sign-on created have neither and will not be able to sign in/);
    assert.doesNotMatch(text, /they sign in with their password or LinkedIn again/);
  });

  test("Remove asks first; the confirmation removes it, audited", async () => {
    const admin = await adminOf("removal");
    assert.equal((await addThroughForm(admin, "removal-corp.test")).status, 303);
    const id = await domainId(admin, "removal-corp.test");
    const confirm = await admin.browser.get(`${gh.url}${DOMAINS}/${id}/remove`);
    assert.equal(confirm.status, 200);
    assert.match(
      confirm.body,
      /data-testid="remove-consequence">Remove removal-corp\.test\? It is not verified, so nothing changes for people at removal-corp\.test\.</,
    );
    const removed = await admin.browser.post(`${gh.url}${DOMAINS}/${id}/remove`, {
      _csrf: csrfToken(confirm.body),
    });
    assert.equal(removed.status, 303);
    assert.equal(removed.location, `${gh.url}${DOMAINS}?removed=1`);
    const page = await admin.browser.get(removed.location ?? "");
    assert.match(page.body, /Removed removal-corp\.test\./);
    assert.match(page.body, /data-testid="no-domains"/);
    const [event] = await listAuditEvents(gh.ctx.store.db, {
      organizationId: admin.organizationId,
      type: "domain.removed",
      limit: 1,
    });
    assert.equal(event?.detail?.domain, "removal-corp.test");
  });

  test("add, verify and remove refuse a request without the CSRF token", async () => {
    const admin = await adminOf("csrf");
    assert.equal((await addThroughForm(admin, "csrf-corp.test")).status, 303);
    const id = await domainId(admin, "csrf-corp.test");
    for (const [path, form] of [
      [DOMAINS, { domain: "csrf-other.test" }],
      [`${DOMAINS}/${id}/verify`, {}],
      [`${DOMAINS}/${id}/remove`, {}],
    ] as const) {
      const answer = await admin.browser.post(`${gh.url}${path}`, form);
      assert.equal(answer.status, 403, path);
    }
    assert.deepEqual(
      (await listDomains(gh.ctx.store.db, admin.organizationId)).map((d) => [d.domain, d.lastCheckedAt]),
      [["csrf-corp.test", null]],
    );
  });

  test("another organization's domain cannot be seen, verified or removed", async () => {
    const owner = await adminOf("owner");
    const other = await adminOf("intruder");
    assert.equal((await addThroughForm(owner, "owner-corp.test")).status, 303);
    const id = await domainId(owner, "owner-corp.test");
    const page = await other.browser.get(`${gh.url}${DOMAINS}`);
    assert.doesNotMatch(page.body, /owner-corp\.test/);
    const token = csrfToken(page.body);
    for (const answer of [
      await other.browser.get(`${gh.url}${DOMAINS}/${id}/remove`),
      await other.browser.post(`${gh.url}${DOMAINS}/${id}/verify`, { _csrf: token }),
      await other.browser.post(`${gh.url}${DOMAINS}/${id}/remove`, { _csrf: token }),
      await other.browser.post(`${gh.url}${DOMAINS}/not-a-uuid/verify`, { _csrf: token }),
    ]) {
      assert.equal(answer.status, 404);
      assert.equal(errorCode(answer.body), "DOMAIN_NOT_FOUND");
    }
    assert.equal((await findDomainByName(gh.ctx.store.db, owner.organizationId, "owner-corp.test"))?.id, id);
  });
});

describe("the Setup form's domain field", () => {
  async function setupPage(admin: Admin): Promise<Answer> {
    const page = await admin.browser.get(`${gh.url}${OIDC}`);
    assert.equal(page.status, 200);
    return page;
  }

  function connectionForm(slug: string, token: string, domains: Record<string, string>) {
    return {
      _csrf: token,
      name: `${slug} Okta`,
      issuer: idp.issuer,
      clientId: "gatehouse-okta",
      clientSecret: "gatehouse-okta-secret",
      ...domains,
    };
  }

  test("offers the organization's domains with their state; a new one is added pending, and Create says it starts once verified", async () => {
    const admin = await adminOf("setup");
    await verifyDomainsAsOperator(gh, admin.organizationId, ["setup-verified.test"]);
    assert.equal((await addThroughForm(admin, "setup-pending.test")).status, 303);
    const page = await setupPage(admin);
    assert.match(
      page.body,
      /<input type="checkbox" name="knownDomains" value="setup-pending\.test"> <span>setup-pending\.test <span class="badge badge-neutral">Pending verification<\/span>/,
    );
    assert.match(
      page.body,
      /<input type="checkbox" name="knownDomains" value="setup-verified\.test"> <span>setup-verified\.test <span class="badge badge-success">Verified<\/span>/,
    );
    assert.match(page.body, /<label for="field-domains">Other domains<\/label>/);

    const created = await admin.browser.post(
      `${gh.url}${OIDC}`,
      connectionForm("setup", csrfToken(page.body), {
        knownDomains: "setup-verified.test",
        domains: "setup-new.test",
      }),
    );
    assert.equal(created.status, 303, errorCode(created.body));
    const rows = await listDomains(gh.ctx.store.db, admin.organizationId);
    assert.deepEqual(
      rows.map((d) => [d.domain, d.state]),
      [
        ["setup-new.test", "pending"],
        ["setup-pending.test", "pending"],
        ["setup-verified.test", "verified"],
      ],
    );
    const confirmation = await admin.browser.get(created.location ?? "");
    assert.match(confirmation.body, /The connection setup Okta has been created and enabled\./);
    assert.match(confirmation.body, /People at setup-verified\.test now sign in through single sign-on\./);
    assert.match(
      confirmation.body,
      /data-testid="created-pending">setup-new\.test starts working once verified\. Until then, people at setup-new\.test sign in as before\./,
    );
    // The connection itself says the same: which domains work, which wait.
    assert.match(
      confirmation.body,
      /People at setup-verified\.test sign in through this connection; password and LinkedIn sign-in are refused for them\. <span data-testid="connection-pending-domains">setup-new\.test starts working once verified/,
    );
    const newRow = rows.find((d) => d.domain === "setup-new.test");
    assert.ok(newRow);
    const record = challengeRecord(newRow.domain, newRow.verificationToken);
    const pendingCard = confirmation.body.slice(confirmation.body.indexOf('data-testid="pending-domains"'));
    assert.match(pendingCard, new RegExp(`value="${record.name}" readonly`));
    assert.match(pendingCard, new RegExp(`value="${record.value}" readonly`));
    assert.match(
      pendingCard,
      new RegExp(`action="${DOMAINS}/${newRow.id}/verify"`),
      "with its Verify button",
    );
    assert.doesNotMatch(pendingCard, /setup-pending\.test/, "only the connection's own domains");

    // The Verify button there answers on the Domains page.
    dns.set(record.name, { txt: [[record.value]] });
    const verified = await admin.browser.post(`${gh.url}${DOMAINS}/${newRow.id}/verify`, {
      _csrf: csrfToken(confirmation.body),
    });
    dns.set(record.name, undefined);
    assert.equal(outcomeOf(verified.body), "verified");
    assert.match(verified.body, /People at setup-new\.test now sign in through setup Okta/);
  });

  test("a connection with only pending domains is enabled, and says it signs no one in until one is verified", async () => {
    const admin = await adminOf("allpending");
    const page = await setupPage(admin);
    assert.doesNotMatch(
      page.body,
      /data-testid="domain-choices"/,
      "no list before the organization has domains",
    );
    const created = await admin.browser.post(
      `${gh.url}${OIDC}`,
      connectionForm("allpending", csrfToken(page.body), { domains: "allpending-corp.test" }),
    );
    assert.equal(created.status, 303, errorCode(created.body));
    const confirmation = await admin.browser.get(created.location ?? "");
    assert.match(confirmation.body, /has been created and enabled\./);
    assert.doesNotMatch(confirmation.body, /now sign in through single sign-on/);
    assert.match(confirmation.body, /This connection signs no one in until one of its domains is verified\./);
    assert.match(
      confirmation.body,
      /allpending-corp\.test starts working once verified\. Until then, people at allpending-corp\.test sign in as before, and allpending Okta signs no one in\./,
    );
  });

  test("a refused form keeps the ticked domains ticked and the typed ones typed", async () => {
    const admin = await adminOf("refill");
    assert.equal((await addThroughForm(admin, "refill-corp.test")).status, 303);
    const page = await setupPage(admin);
    const refused = await admin.browser.post(
      `${gh.url}${OIDC}`,
      connectionForm("refill", csrfToken(page.body), {
        knownDomains: "refill-corp.test",
        domains: "refill-new.test, gmail.com",
        clientSecret: "",
      }),
    );
    assert.equal(refused.status, 400);
    assert.match(refused.body, /value="refill-corp\.test" checked>/);
    assert.match(
      refused.body,
      /id="field-domains" name="domains" type="text" value="refill-new\.test, gmail\.com"/,
    );
    assert.match(refused.body, /id="domains-error">gmail\.com is a public email provider/);
  });

  test("public email providers and public suffixes are refused as connection domains, with the reason", async () => {
    const admin = await adminOf("suffix");
    for (const [domain, reason] of [
      ["gmail.com", /gmail\.com is a public email provider/],
      ["co.uk", /co\.uk is a public suffix/],
    ] as const) {
      const page = await setupPage(admin);
      const refused = await admin.browser.post(
        `${gh.url}${OIDC}`,
        connectionForm("suffix", csrfToken(page.body), { domains: domain }),
      );
      assert.equal(refused.status, 400, domain);
      assert.equal(errorCode(refused.body), "VALIDATION_FAILED");
      assert.match(refused.body, reason);
    }
    assert.deepEqual(await listDomains(gh.ctx.store.db, admin.organizationId), []);
  });
});
