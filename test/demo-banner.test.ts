import assert from "node:assert/strict";
import { test } from "node:test";
import { demoBanner } from "../src/cli/demo-banner.js";
import { demoIdpSetup } from "../src/dev-idp/server.js";

const base = "http://localhost:3000/";
const setup = demoIdpSetup(base);
const banner = demoBanner({
  base,
  idpIssuer: "http://localhost:3001",
  databaseUrl: "sqlite:data/gatehouse.db",
  seeded: true,
  admin: { email: "admin@acme.test", password: "acme-demo-password" },
  okta: setup.clients[0],
  users: setup.users,
  sampleUrl: "http://localhost:3002/",
});

test("the demo banner lines up its accounts: emails, passwords and the '(at the IdP)' notes in columns", () => {
  const acme = banner.split("\n").filter((l) => l.includes("(at the IdP)"));
  assert.deepEqual(
    acme.map((l) => l.trim().split(/\s+/).slice(0, 2)),
    [
      ["admin@acme.test", "admin-password"],
      ["alice@acme.test", "alice-password"],
      ["bob@acme.test", "bob-password"],
    ],
  );
  const column = (find: (l: string) => number) => new Set(acme.map(find));
  const listing = acme.join("\n");
  assert.equal(column((l) => l.search(/\S/)).size, 1, `emails in one column:\n${listing}`);
  assert.equal(column((l) => l.search(/\S+-password/)).size, 1, `passwords in one column:\n${listing}`);
  assert.equal(column((l) => l.indexOf("(at the IdP)")).size, 1, `notes in one column:\n${listing}`);
});

test("the demo banner still names what to paste and the people outside Acme", () => {
  assert.match(banner, /Identity provider domain {2}tick acme\.test/);
  assert.match(banner, /Client secret {13}gatehouse-okta-secret/);
  assert.match(banner, /carol@gmail\.test +carol-password\n/);
});
