import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import { createApiKey } from "../../src/api/keys.js";
import { Browser } from "../support/browserless.js";
import { type TestDatabase, withEachDatabase } from "../support/databases.js";
import { freePort, startGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { ADMIN, seedAcme } from "../support/sso.js";
import { authorizationRequest, authorizeWithPassword, registerApplication } from "./support.js";

/**
 * Two instances over one database behind one public URL: a code issued by one is redeemed at
 * the other, whose key set (loaded from the database) verifies what the first signed.
 */
withEachDatabase("OpenID Provider on two instances", (dialect) => {
  describe("code at one instance, tokens at the other", () => {
    let database: TestDatabase;
    let a: TestGatehouse;
    let b: TestGatehouse;

    before(async () => {
      database = await dialect.create();
      const portA = await freePort();
      const env = { ...database.env, GATEHOUSE_BASE_URL: `http://localhost:${portA}` };
      a = await startGatehouse({ databaseUrl: database.url, port: portA, env });
      b = await startGatehouse({ databaseUrl: database.url, env });
      await seedAcme(a);
    });
    after(async () => {
      // DEBUG_MI=1 prints both instances' warnings and errors, for a failure on a loaded machine.
      if (process.env.DEBUG_MI) {
        for (const line of [...a.logs, ...b.logs])
          if (/"level":(40|50)/.test(line)) console.log(line.slice(0, 1500));
      }
      await a?.close();
      await b?.close();
      await database?.drop();
    });

    test("authorize at A, redeem the code, read userinfo and refresh at B", async () => {
      const app = await registerApplication(a);
      // The load balancer sends the application's back-channel requests to B.
      const portA = new URL(a.url).port;
      const portB = new URL(b.url).port;
      app.config[client.customFetch] = (url, options) =>
        fetch(url.replace(`localhost:${portA}`, `localhost:${portB}`), options as RequestInit);
      const request = await authorizationRequest(app, {
        scope: "openid email offline_access",
        prompt: "consent",
      });
      const callback = await authorizeWithPassword(
        new Browser(),
        a,
        request.url,
        ADMIN.email,
        ADMIN.password,
      );
      const tokens = await client.authorizationCodeGrant(app.config, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      assert.equal(tokens.claims()?.email, ADMIN.email);
      const userinfo = await client.fetchUserInfo(
        app.config,
        tokens.access_token,
        tokens.claims()?.sub as string,
      );
      assert.equal(userinfo.org_slug, "acme");
      const refreshed = await client.refreshTokenGrant(app.config, tokens.refresh_token as string);
      assert.ok(refreshed.access_token);
      // The code was used at B: A refuses it too.
      app.config[client.customFetch] = (url, options) => fetch(url, options as RequestInit);
      await assert.rejects(
        client.authorizationCodeGrant(app.config, callback, {
          pkceCodeVerifier: request.codeVerifier,
          expectedState: request.state,
        }),
        (error: { error?: string }) => error.error === "invalid_grant",
      );
    });

    test("sign out everywhere at B: A refuses the application's access and refresh tokens", async () => {
      const app = await registerApplication(a);
      const request = await authorizationRequest(app, {
        scope: "openid email offline_access",
        prompt: "consent",
      });
      const callback = await authorizeWithPassword(
        new Browser(),
        a,
        request.url,
        ADMIN.email,
        ADMIN.password,
      );
      const tokens = await client.authorizationCodeGrant(app.config, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      const sub = tokens.claims()?.sub as string;
      assert.equal((await client.fetchUserInfo(app.config, tokens.access_token, sub)).sub, sub);

      const key = (await createApiKey(b.ctx, "acme", "ci")).key;
      const revoked = await fetch(`${b.url}/api/v1/users/${sub}/sessions/revoke`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(revoked.status, 200, await revoked.clone().text());
      assert.ok(((await revoked.json()) as { sessionsEnded: number }).sessionsEnded >= 1);

      const userinfo = await fetch(`${a.url}/oidc/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(userinfo.status, 401);
      await assert.rejects(
        client.refreshTokenGrant(app.config, tokens.refresh_token as string),
        (error: { error?: string }) => error.error === "invalid_grant",
      );
    });
  });
});
