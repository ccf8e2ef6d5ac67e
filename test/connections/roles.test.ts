/**
 * Roles from the provider, end to end against the development IdP (which sends `groups` with
 * the `groups` scope): rules are applied at every sign-in, changes are audited, an owner is
 * never changed, `owner` is never a rule; the names stay on the user.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createApiKey } from "../../src/api/keys.js";
import { createConnection } from "../../src/connections/create.js";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { Browser } from "../support/browserless.js";
import { startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { acmeOktaInput, seedAcme, signInAtIdp, ssoSignIn, startIdp } from "../support/sso.js";

let gh: TestGatehouse;
let idp: DevIdp;
let organizationId: string;
let connectionId: string;
let key: string;

before(async () => {
  gh = await startGatehouse();
  idp = await startIdp(gh, [
    {
      email: "olga@acme.test",
      password: "olga-password",
      name: "Olga Overage",
      groups: ["Gatehouse Admins"],
      groupsOverage: true,
    },
  ]);
  ({ organizationId } = await seedAcme(gh));
  const { connection } = await createConnection(gh.ctx, {
    organizationId,
    input: {
      ...acmeOktaInput(idp),
      extraScopes: ["groups"],
      roleRules: [{ group: "Gatehouse Admins", role: "admin" }],
    },
    actorUserId: null,
  });
  connectionId = connection.id;
  key = (await createApiKey(gh.ctx, "acme", "roles")).key;
});
after(async () => {
  await idp.close();
  await gh.close();
});

interface Me {
  role: string;
  user: { email: string; name: string | null; givenName: string | null; familyName: string | null };
}

async function signIn(email: string, password: string): Promise<Me> {
  const browser = new Browser();
  assert.equal((await ssoSignIn(browser, gh, idp, email, password)).status, 303);
  return JSON.parse((await browser.get(`${gh.url}/api/v1/me`)).body) as Me;
}

async function patch(body: unknown) {
  const response = await fetch(`${gh.url}/api/v1/connections/${connectionId}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test("a new user gets the default role; the names are kept and shown by /api/v1/me", async () => {
  const me = await signIn("alice@acme.test", "alice-password");
  assert.equal(me.role, "member");
  assert.deepEqual(me.user, {
    ...me.user,
    name: "Alice Anderson",
    givenName: "Alice",
    familyName: "Anderson",
  });
});

test("a rule's group makes an admin at the next sign-in, audited; dropping it demotes again", async () => {
  assert.equal(
    (
      await patch({
        roleRules: [
          { group: "Gatehouse Admins", role: "admin" },
          { group: "Engineering", role: "admin" },
        ],
      })
    ).status,
    200,
  );
  assert.equal((await signIn("alice@acme.test", "alice-password")).role, "admin");
  const [promoted] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    type: "user.role_changed",
    limit: 1,
  });
  assert.equal(promoted?.email, "alice@acme.test");
  assert.deepEqual(promoted?.detail, {
    from: "member",
    to: "admin",
    source: "identity_provider",
    rule: "Engineering = admin",
  });
  assert.equal(promoted?.connectionId, connectionId);

  assert.equal((await patch({ roleRules: [{ group: "Gatehouse Admins", role: "admin" }] })).status, 200);
  assert.equal((await signIn("alice@acme.test", "alice-password")).role, "member");
});

test("the owner is never changed by the provider, whatever the groups", async () => {
  assert.equal((await patch({ roleRules: [{ group: "Everyone", role: "member" }] })).status, 200);
  assert.equal((await signIn("admin@acme.test", "admin-password")).role, "owner");
});

test("without rules, the provider decides only a new user's role", async () => {
  assert.equal((await patch({ roleRules: [], defaultRole: "admin" })).status, 200);
  assert.equal((await signIn("bob@acme.test", "bob-password")).role, "admin", "new: the default role");
  assert.equal((await patch({ defaultRole: "member" })).status, 200);
  assert.equal((await signIn("bob@acme.test", "bob-password")).role, "admin", "kept: no rules");
});

test("owner is refused as a rule and as the default role; the view lists the settings", async () => {
  const rule = await patch({ roleRules: [{ group: "Founders", role: "owner" }] });
  assert.equal(rule.status, 400);
  const byDefault = await patch({ defaultRole: "owner" });
  assert.equal(byDefault.status, 400);
  const view = await patch({ groupsClaim: "roles", roleRules: [{ group: "Admins", role: "admin" }] });
  assert.equal(view.status, 200);
  assert.equal(view.body.groupsClaim, "roles");
  assert.deepEqual(view.body.roleRules, [{ group: "Admins", role: "admin" }]);
  assert.deepEqual(view.body.changed, ["groupsClaim", "roleRules"]);
});

test("Entra ID's group overage: detected, explained in the test result, and no role changes on it", async () => {
  assert.equal(
    (await patch({ groupsClaim: "groups", roleRules: [{ group: "Gatehouse Admins", role: "admin" }] }))
      .status,
    200,
  );
  const admin = new Browser();
  assert.equal((await ssoSignIn(admin, gh, idp, "admin@acme.test", "admin-password")).status, 303);
  const csrf = (
    JSON.parse((await admin.get(`${gh.url}/api/v1/me?include=csrfToken`)).body) as { csrfToken: string }
  ).csrfToken;
  const started = await admin.post(`${gh.url}/admin/enterprise-authentication/oidc/${connectionId}/test`, {
    _csrf: csrf,
  });
  assert.equal(started.status, 303);
  // Leave the IdP's session (its cookies start with "_"), to sign in there as someone else.
  for (const name of [...admin.cookies().keys()]) if (name.startsWith("_")) admin.cookies().delete(name);
  const start = await admin.get(new URL(started.location as string, gh.url).toString());
  const back = await signInAtIdp(admin, start, idp, "olga@acme.test", "olga-password", gh.url);
  const callback = await admin.get(back.location as string);
  const result = await admin.get(new URL(callback.location as string, gh.url).toString());
  assert.match(result.body, /data-testid="groups-overage"/);
  assert.match(result.body, /_claim_names/);
  assert.match(result.body, /data-field="role">member</);
});
