/**
 * Interoperability with a relying party we did not write: Debian's Apache httpd with
 * mod_auth_openidc signs people in through Gatehouse's OpenID Provider. mod_auth_openidc
 * discovers Gatehouse, sends the code flow with PKCE, redeems the code at the token endpoint with
 * client_secret_basic, validates the ID token against the JWKS (signature, iss, aud, nonce, exp,
 * iat), checks the RFC 9207 iss, calls userinfo, and takes part in RP-initiated and back-channel
 * logout. CI installs it (.ci/run); elsewhere the test skips when it is missing.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { randomToken } from "../../src/crypto/tokens.js";
import { createApplication } from "../../src/provider/applications.js";
import { deliverDueLogouts } from "../../src/provider/backchannel.js";
import { openIdProviderOf } from "../../src/provider/routes.js";
import { type Answer, Browser, csrfToken } from "../support/browserless.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";
import { authorizeWithPassword, confirmLogout } from "./support.js";

const APACHE = "/usr/sbin/apache2";
const MODULE = "/usr/lib/apache2/modules/mod_auth_openidc.so";
const CONFIG = fileURLToPath(new URL("./mod-auth-openidc.conf", import.meta.url));
const available = existsSync(APACHE) && existsSync(MODULE);
// CI installs apache2-bin and libapache2-mod-auth-openidc, so there a missing package fails instead of skipping.
const skip =
  !available && !process.env.CI ? "apache2-bin and libapache2-mod-auth-openidc are not installed" : false;

interface ApacheRelyingParty {
  url: string;
  unregisteredUrl: string;
  redirectUri: string;
  errorLog(): Promise<string>;
  close(): Promise<void>;
}

describe("mod_auth_openidc (Debian's Apache httpd) signs people in through Gatehouse", { skip }, () => {
  let gh: TestGatehouse;
  let rp: ApacheRelyingParty;
  let acme: { organizationId: string; adminUserId: string };

  before(async () => {
    gh = await startGatehouse();
    acme = await seedAcme(gh);
    // Delivered by hand below, so no background attempt races the assertions.
    openIdProviderOf(gh.ctx)?.stopDelivery();
    rp = await startApache(gh);
  });
  after(async () => {
    await rp?.close();
    await gh?.close();
  });

  /** The protected page: to Gatehouse, the password sign-in, back through the redirect URI. */
  async function signIn(browser: Browser): Promise<{ page: Answer; nonce: string }> {
    const start = await browser.navigate(`${rp.url}/protected/hello.txt`);
    assert.equal(start.status, 302, await explain(start));
    const authorize = new URL(start.location ?? "");
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${gh.url}/oidc/auth`);
    assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
    const nonce = authorize.searchParams.get("nonce");
    assert.ok(nonce, "mod_auth_openidc sends a nonce");
    const callback = await authorizeWithPassword(browser, gh, authorize, ADMIN.email, ADMIN.password, rp.url);
    assert.equal(`${callback.origin}${callback.pathname}`, rp.redirectUri);
    assert.equal(callback.searchParams.get("iss"), gh.url, "RFC 9207 iss in the authorization response");
    const back = await browser.navigate(callback.toString());
    assert.equal(back.status, 302, await explain(back));
    assert.equal(back.location, `${rp.url}/protected/hello.txt`);
    return { page: await browser.navigate(back.location), nonce };
  }

  async function explain(answer: Answer): Promise<string> {
    const log = (await rp.errorLog()).split("\n").slice(-15).join("\n");
    return `${answer.status} ${answer.location ?? ""} ${answer.body.slice(0, 500)}\n--- Apache error log ---\n${log}`;
  }

  /** mod_auth_openidc shows its error page (with status 200) and logs which check failed. */
  async function assertRefused(answer: Answer, check: RegExp): Promise<void> {
    assert.equal(answer.location, undefined, await explain(answer));
    assert.match(answer.body, /<title>Error<\/title>/, await explain(answer));
    assert.match(await rp.errorLog(), check);
  }

  async function sessionInfo(browser: Browser) {
    const answer = await browser.get(`${rp.redirectUri}?info=json`);
    assert.equal(answer.status, 200, await explain(answer));
    return JSON.parse(answer.body) as {
      id_token?: Record<string, unknown>;
      userinfo?: Record<string, unknown>;
      access_token?: string;
    };
  }

  test("a person signs in; mod_auth_openidc accepts the ID token and userinfo and passes the claims on", async () => {
    const browser = new Browser();
    const { page, nonce } = await signIn(browser);
    assert.equal(page.status, 200, await explain(page));
    assert.equal(page.body, "signed in\n");
    assert.equal(page.headers.get("x-claim-sub"), acme.adminUserId);
    assert.equal(page.headers.get("x-claim-email"), ADMIN.email);
    assert.equal(page.headers.get("x-claim-org-slug"), "acme");

    const info = await sessionInfo(browser);
    assert.equal(info.id_token?.iss, gh.url);
    assert.equal(info.id_token?.sub, acme.adminUserId);
    assert.equal(info.id_token?.email, ADMIN.email);
    assert.equal(info.id_token?.nonce, nonce);
    assert.equal(info.id_token?.org_id, acme.organizationId);
    assert.equal(info.userinfo?.sub, acme.adminUserId, "mod_auth_openidc called userinfo");
    assert.equal(info.userinfo?.email, ADMIN.email);
    assert.equal(info.userinfo?.org_role, "owner");
    assert.ok(info.access_token, "the access token that userinfo took");
  });

  test("Gatehouse refuses a redirect URI it does not have, with an error page and no redirect", async () => {
    const browser = new Browser();
    const start = await browser.navigate(`${rp.unregisteredUrl}/protected/hello.txt`);
    assert.equal(start.status, 302, await explain(start));
    const authorize = start.location ?? assert.fail("a redirect to Gatehouse");
    assert.ok(authorize.startsWith(`${gh.url}/oidc/auth?`), authorize);
    const refused = await browser.get(authorize);
    assert.equal(refused.status, 400);
    assert.equal(refused.location, undefined, "no redirect to an unregistered URI");
    assert.match(refused.body, /data-error-code="invalid_redirect_uri"/);
  });

  test("mod_auth_openidc refuses an authorization response whose iss is not Gatehouse's (RFC 9207)", async () => {
    const browser = new Browser();
    const start = await browser.navigate(`${rp.url}/protected/hello.txt`);
    const callback = await authorizeWithPassword(
      browser,
      gh,
      new URL(start.location ?? ""),
      ADMIN.email,
      ADMIN.password,
      rp.url,
    );
    callback.searchParams.set("iss", "http://localhost:1/");
    await assertRefused(
      await browser.navigate(callback.toString()),
      /does not match the issuer provided in the response/,
    );
    assert.equal((await browser.navigate(`${rp.url}/protected/hello.txt`)).status, 302, "still signed out");
  });

  test("a code Gatehouse did not issue fails at the token endpoint, and mod_auth_openidc signs nobody in", async () => {
    const browser = new Browser();
    const start = await browser.navigate(`${rp.url}/protected/hello.txt`);
    const callback = await authorizeWithPassword(
      browser,
      gh,
      new URL(start.location ?? ""),
      ADMIN.email,
      ADMIN.password,
      rp.url,
    );
    callback.searchParams.set("code", randomToken());
    await assertRefused(await browser.navigate(callback.toString()), /"invalid_grant"/);
    assert.equal((await browser.navigate(`${rp.url}/protected/hello.txt`)).status, 302, "still signed out");
  });

  test("RP-initiated logout: mod_auth_openidc sends the person to Gatehouse's end_session_endpoint and back", async () => {
    const browser = new Browser();
    assert.equal((await signIn(browser)).page.status, 200);
    const signedOut = `${rp.url}/signed-out`;
    const logout = await browser.navigate(`${rp.redirectUri}?logout=${encodeURIComponent(signedOut)}`);
    assert.equal(logout.status, 302, await explain(logout));
    const endSession = new URL(logout.location ?? "");
    assert.equal(`${endSession.origin}${endSession.pathname}`, `${gh.url}/oidc/session/end`);
    assert.ok(endSession.searchParams.get("id_token_hint"), "mod_auth_openidc sends id_token_hint");
    const confirmed = await confirmLogout(browser, await browser.get(endSession.toString()));
    const landed = await browser.follow(confirmed, (url) => url.startsWith(rp.url));
    assert.equal(landed.location?.split("?")[0], signedOut);
    assert.equal((await browser.get(`${gh.url}/api/v1/me`)).status, 401, "the Gatehouse session ended");
    const again = await browser.navigate(`${rp.url}/protected/hello.txt`);
    assert.equal(again.status, 302, "mod_auth_openidc's session ended");
    assert.ok(again.location?.startsWith(`${gh.url}/oidc/auth?`));
  });

  test("back-channel logout: ending the Gatehouse session ends mod_auth_openidc's", async () => {
    const op = openIdProviderOf(gh.ctx) ?? assert.fail("provider running");
    await deliverDueLogouts(gh.ctx, op); // what the earlier tests' sign-outs queued
    const browser = new Browser();
    assert.equal((await signIn(browser)).page.status, 200);
    const home = await browser.get(`${gh.url}/`);
    await browser.post(`${gh.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal((await browser.get(`${gh.url}/api/v1/me`)).status, 401);
    const delivery = await deliverDueLogouts(gh.ctx, op);
    assert.deepEqual(delivery, { delivered: 1, failed: 0 }, await rp.errorLog());
    const again = await browser.navigate(`${rp.url}/protected/hello.txt`);
    assert.equal(again.status, 302, "mod_auth_openidc dropped the session named by the logout token");
  });
});

async function startApache(gh: TestGatehouse): Promise<ApacheRelyingParty> {
  assert.ok(available, `apache2-bin and libapache2-mod-auth-openidc are needed (${APACHE}, ${MODULE})`);
  const root = await mkdtemp(join(tmpdir(), "gatehouse-mod-auth-openidc-"));
  // The children run as www-data and must read the documents.
  await chmod(root, 0o755);
  await mkdir(join(root, "htdocs", "protected"), { recursive: true });
  await writeFile(join(root, "htdocs", "protected", "hello.txt"), "signed in\n");
  await writeFile(join(root, "htdocs", "signed-out"), "signed out\n");
  const [port, unregisteredPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const redirectUri = `${url}/protected/redirect_uri`;
  const { application, clientSecret } = await createApplication(gh.ctx, {
    name: "Apache mod_auth_openidc",
    redirectUris: [redirectUri],
    postLogoutRedirectUris: [`${url}/signed-out`],
    backchannelLogoutUri: `${redirectUri}?logout=backchannel`,
  });
  const child: ChildProcess = spawn(APACHE, ["-f", CONFIG, "-DFOREGROUND"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      RP_ROOT: root,
      RP_PORT: String(port),
      RP_UNREGISTERED_PORT: String(unregisteredPort),
      GATEHOUSE_URL: gh.url,
      RP_CLIENT_ID: application.clientId,
      RP_CLIENT_SECRET: clientSecret ?? assert.fail("a confidential application has a secret"),
      RP_CRYPTO_PASSPHRASE: randomToken(),
    },
  });
  let output = "";
  child.once("error", (error) => {
    output += String(error);
  });
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const errorLog = () => readFile(join(root, "error.log"), "utf8").catch(() => "");
  const close = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // SIGTERM stops the children too; SIGKILL only if Apache hangs on the way out.
      const hung = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(hung);
    }
    await rm(root, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || child.pid === undefined) {
      const log = await errorLog();
      await close();
      assert.fail(`Apache exited with ${child.exitCode}: ${output}\n${log}`);
    }
    const ready = await fetch(`${url}/signed-out`).then(
      (answer) => answer.ok,
      () => false,
    );
    if (ready) break;
    if (i > 100) {
      await close();
      assert.fail(`Apache did not answer on ${url}: ${output}`);
    }
    await delay(100);
  }
  return { url, unregisteredUrl: `http://127.0.0.1:${unregisteredPort}`, redirectUri, errorLog, close };
}
