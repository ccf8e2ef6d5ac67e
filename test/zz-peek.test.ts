import { test } from "node:test";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";
import { Browser, csrfToken, passwordSignIn } from "../test/support/browserless.js";
import { startGatehouse } from "../test/support/gatehouse.js";
test("peek", async () => {
  const gh = await startGatehouse();
  const idp = await startDevIdp({ port: 0, ...demoIdpSetup(`${gh.url}/`) });
  await createOrganizationWithAdmin(gh.ctx, { slug: "acme", name: "Acme", adminEmail: "a@acme.test", adminPassword: "correct horse battery" });
  const b = new Browser();
  await passwordSignIn(b, gh.url, "a@acme.test", "correct horse battery");
  for (const issuer of ["http://127.0.0.1:1", `${idp.issuer}/nope`, `${idp.issuer}/`, "nope"]) {
    const p = await b.get(`${gh.url}/admin/enterprise-authentication/oidc`);
    const r = await b.post(`${gh.url}/admin/enterprise-authentication/oidc`, { _csrf: csrfToken(p.body), name: "X", issuer, clientId: "c", clientSecret: "s", domains: "x.test" });
    console.log(r.status, /<main[\s\S]*?<section class="card"/.exec(r.body)?.[0], /<p class="field-error"[^\n]*/.exec(r.body)?.[0]);
  }
  const p = await b.get(`${gh.url}/admin/enterprise-authentication/oidc`);
  const r = await b.post(`${gh.url}/admin/enterprise-authentication/oidc`, { _csrf: csrfToken(p.body), name: "X", issuer: idp.issuer, clientId: "gatehouse-okta", clientSecret: "s", domains: "x.test" });
  console.log((await b.get(r.location!)).body);
  await idp.close(); await gh.close();
});
