import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { subjectForEmail } from "../src/dev-idp/accounts.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";

const gatehouse = "http://localhost:3000/";
const okta = {
  id: "gatehouse-okta",
  secret: "gatehouse-okta-secret",
  redirectUri: `${gatehouse}sso/oidc/callback`,
};
const linkedin = {
  id: "gatehouse-linkedin",
  secret: "gatehouse-linkedin-secret",
  redirectUri: `${gatehouse}login/linkedin/callback`,
};

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  code_challenge_methods_supported: string[];
}

/** Just enough of a browser cookie store: per-path cookies, deletions, and path matching. */
class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = "/";
      let expired = value === "";
      for (const attribute of attributes) {
        const [key = "", val = ""] = attribute.split("=");
        if (key.toLowerCase() === "path") path = val;
        if (key.toLowerCase() === "expires" && Date.parse(val) <= Date.now()) expired = true;
        if (key.toLowerCase() === "max-age" && Number(val) <= 0) expired = true;
      }
      const key = `${name};${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  headerFor(url: string): string {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith("/") ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join("; ");
  }
}

class Browser {
  readonly jar = new CookieJar();

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { cookie: this.jar.headerFor(url) };
    let body: string | null = null;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { method: init.method ?? "GET", headers, body, redirect: "manual" });
    this.jar.store(response);
    return response;
  }

  /**
   * Follows redirects like a browser until a page is rendered or the IdP sends the browser back
   * to `stopAt` (the client's redirect URI, which nothing is listening on in this test).
   */
  async follow(first: Response, from: string, stopAt: string): Promise<{ url: string; response: Response }> {
    let response = first;
    let url = from;
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || location === null) return { url, response };
      url = new URL(location, url).href;
      if (url.startsWith(stopAt)) return { url, response };
      response = await this.request(url);
    }
    throw new Error("too many redirects");
  }
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function formAction(page: string, suffix: string): string {
  const match = new RegExp(`action="([^"]*${suffix})"`).exec(page);
  assert.ok(match?.[1], `no form posting to *${suffix} on the page`);
  return match[1];
}

describe("development IdP", () => {
  let idp: DevIdp;
  let discovery: Discovery;

  before(async () => {
    idp = await startDevIdp({ port: 0, ...demoIdpSetup(gatehouse) });
    const response = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    discovery = (await response.json()) as Discovery;
  });

  after(async () => {
    await idp.close();
  });

  function authorizationUrl(
    client: typeof okta,
    params: { challenge?: string; nonce: string; state: string; loginHint?: string },
  ) {
    const url = new URL(discovery.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: client.id,
      redirect_uri: client.redirectUri,
      response_type: "code",
      scope: "openid email profile",
      state: params.state,
      nonce: params.nonce,
      ...(params.challenge === undefined
        ? {}
        : { code_challenge: params.challenge, code_challenge_method: "S256" }),
      ...(params.loginHint === undefined ? {} : { login_hint: params.loginHint }),
    }).toString();
    return url.href;
  }

  /** Starts an authorization request and returns the sign-in page it leads to. */
  async function openSignIn(browser: Browser, url: string): Promise<{ url: string; html: string }> {
    const page = await browser.follow(await browser.request(url), url, okta.redirectUri);
    assert.equal(page.response.status, 200);
    return { url: page.url, html: await page.response.text() };
  }

  async function redeem(client: typeof okta, code: string, verifier: string, auth: "basic" | "post") {
    const form: Record<string, string> = {
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
    };
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    if (auth === "basic") {
      headers.authorization = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`;
    } else {
      form.client_id = client.id;
      form.client_secret = client.secret;
    }
    const response = await fetch(discovery.token_endpoint, {
      method: "POST",
      headers,
      body: new URLSearchParams(form).toString(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(typeof body.id_token, "string");
    return body as { id_token: string; access_token: string };
  }

  test("discovery advertises the issuer, endpoints, S256 PKCE and RP-initiated logout", () => {
    assert.match(idp.issuer, /^http:\/\/localhost:\d+$/);
    assert.equal(idp.issuer, `http://localhost:${idp.port}`);
    assert.equal(discovery.issuer, idp.issuer);
    assert.equal(discovery.authorization_endpoint, `${idp.issuer}/auth`);
    assert.equal(discovery.token_endpoint, `${idp.issuer}/token`);
    assert.equal(discovery.jwks_uri, `${idp.issuer}/jwks`);
    assert.ok(discovery.code_challenge_methods_supported.includes("S256"));
    assert.equal(discovery.end_session_endpoint, `${idp.issuer}/session/end`);
  });

  test("authorization code + PKCE sign-in, SSO to a second client, then RP-initiated logout", async () => {
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const nonce = randomBytes(16).toString("base64url");
    const state = randomBytes(16).toString("base64url");

    const signIn = await openSignIn(browser, authorizationUrl(okta, { challenge, nonce, state }));
    assert.match(signIn.url, new RegExp(`^${idp.issuer}/interaction/[\\w-]+$`));
    assert.match(signIn.html, /Development IdP \(stands in for Okta\)/);
    assert.match(signIn.html, /Gatehouse \(enterprise SSO\)/);
    assert.match(signIn.html, /<label for="email">Email<\/label>/);
    assert.match(signIn.html, /<input[^>]*name="email"/);
    assert.match(signIn.html, /<label for="password">Password<\/label>/);
    assert.match(signIn.html, /<input[^>]*name="password"/);
    assert.match(signIn.html, /<button type="submit">Sign in<\/button>/);

    const loginUrl = new URL(formAction(signIn.html, "/login"), idp.issuer).href;
    const posted = await browser.request(loginUrl, {
      method: "POST",
      form: { email: "Alice@Acme.test", password: "alice-password" },
    });
    assert.equal(posted.status, 303);
    const callback = await browser.follow(posted, loginUrl, okta.redirectUri);
    const returned = new URL(callback.url);
    assert.equal(`${returned.origin}${returned.pathname}`, okta.redirectUri);
    assert.equal(returned.searchParams.get("state"), state);
    assert.equal(returned.searchParams.get("iss"), idp.issuer);
    const code = returned.searchParams.get("code");
    assert.ok(code);

    const tokens = await redeem(okta, code, verifier, "basic");
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token, jwks, {
      issuer: idp.issuer,
      audience: okta.id,
    });
    assert.equal(protectedHeader.alg, "RS256");
    assert.ok(protectedHeader.kid);
    assert.equal(payload.iss, idp.issuer);
    assert.equal(payload.aud, okta.id);
    assert.equal(payload.sub, subjectForEmail("alice@acme.test"));
    assert.equal(payload.email, "alice@acme.test");
    assert.equal(payload.email_verified, true);
    assert.equal(payload.name, "Alice Anderson");
    assert.equal(payload.nonce, nonce);

    // The IdP session now exists, so the LinkedIn stand-in signs in without a page or a click,
    // and gets the same stable subject.
    const second = pkce();
    const linkedinUrl = authorizationUrl(linkedin, { challenge: second.challenge, nonce: "n2", state: "s2" });
    const sso = await browser.follow(await browser.request(linkedinUrl), linkedinUrl, linkedin.redirectUri);
    const linkedinCode = new URL(sso.url).searchParams.get("code");
    assert.ok(linkedinCode, `expected a redirect to the client, got ${sso.response.status} at ${sso.url}`);
    const linkedinTokens = await redeem(linkedin, linkedinCode, second.verifier, "post");
    const linkedinClaims = decodeJwt(linkedinTokens.id_token);
    assert.equal(linkedinClaims.aud, linkedin.id);
    assert.equal(linkedinClaims.sub, payload.sub);

    // RP-initiated logout: a confirmation page with a "Sign out" button, then back to Gatehouse.
    const endSession = new URL(discovery.end_session_endpoint ?? "");
    endSession.search = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: gatehouse,
      state: "bye",
    }).toString();
    const confirm = await browser.request(endSession.href);
    assert.equal(confirm.status, 200);
    const confirmHtml = await confirm.text();
    assert.match(
      confirmHtml,
      /<button type="submit" form="op.logoutForm" name="logout" value="yes"[^>]*>Sign out<\/button>/,
    );
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirmHtml)?.[1];
    assert.ok(xsrf);
    const confirmUrl = new URL(formAction(confirmHtml, "/session/end/confirm"), idp.issuer).href;
    const loggedOut = await browser.request(confirmUrl, { method: "POST", form: { xsrf, logout: "yes" } });
    assert.equal(loggedOut.status, 303);
    assert.equal(loggedOut.headers.get("location"), `${gatehouse}?state=bye`);

    // The IdP session is gone, so the next authorization request asks for credentials again.
    const again = pkce();
    const afterLogout = await openSignIn(
      browser,
      authorizationUrl(okta, { challenge: again.challenge, nonce, state }),
    );
    assert.match(afterLogout.html, /name="password"/);
  });

  test("a wrong password shows the sign-in page again with an error, keeping the email", async () => {
    const browser = new Browser();
    const { challenge } = pkce();
    const signIn = await openSignIn(browser, authorizationUrl(okta, { challenge, nonce: "n", state: "s" }));
    const loginUrl = new URL(formAction(signIn.html, "/login"), idp.issuer).href;

    const response = await browser.request(loginUrl, {
      method: "POST",
      form: { email: "bob@acme.test", password: "not-bobs-password" },
    });
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /role="alert">Incorrect email or password\.</);
    assert.match(html, /name="email"[^>]*value="bob@acme\.test"/);
    assert.match(html, /<button type="submit">Sign in<\/button>/);
  });

  test("the sign-in page prefills the email from login_hint and puts the cursor on the password", async () => {
    const { challenge } = pkce();
    const hinted = await openSignIn(
      new Browser(),
      authorizationUrl(okta, { challenge, nonce: "n", state: "s", loginHint: "alice@acme.test" }),
    );
    assert.match(hinted.html, /<input id="email"[^>]*value="alice@acme\.test">/);
    assert.doesNotMatch(hinted.html, /<input id="email"[^>]*autofocus/);
    assert.match(hinted.html, /<input id="password"[^>]*autofocus>/);

    const plain = await openSignIn(
      new Browser(),
      authorizationUrl(okta, { challenge, nonce: "n", state: "s" }),
    );
    assert.match(plain.html, /<input id="email"[^>]*autofocus value="">/);

    const hostile = await openSignIn(
      new Browser(),
      authorizationUrl(okta, { challenge, nonce: "n", state: "s", loginHint: `"><script>x</script>` }),
    );
    assert.doesNotMatch(hostile.html, /<script>/);
  });

  test("the sign-in page escapes what it echoes", async () => {
    const browser = new Browser();
    const { challenge } = pkce();
    const signIn = await openSignIn(browser, authorizationUrl(okta, { challenge, nonce: "n", state: "s" }));
    const loginUrl = new URL(formAction(signIn.html, "/login"), idp.issuer).href;
    const response = await browser.request(loginUrl, {
      method: "POST",
      form: { email: `"><script>alert(1)</script>`, password: "x" },
    });
    const html = await response.text();
    assert.doesNotMatch(html, /<script>/);
    // The stylesheet is a trusted constant and must not be entity-escaped (CSS would break).
    assert.doesNotMatch(html, /<style>[^<]*&quot;/);
    assert.match(html, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  });

  test("requests without PKCE are rejected", async () => {
    const browser = new Browser();
    const url = authorizationUrl(okta, { nonce: "n", state: "s" });
    const result = await browser.follow(await browser.request(url), url, okta.redirectUri);
    const returned = new URL(result.url);
    assert.equal(returned.searchParams.get("error"), "invalid_request");
    assert.match(returned.searchParams.get("error_description") ?? "", /PKCE/);
  });

  test("an unregistered post_logout_redirect_uri is refused", async () => {
    const endSession = new URL(discovery.end_session_endpoint ?? "");
    endSession.search = new URLSearchParams({
      client_id: okta.id,
      post_logout_redirect_uri: "https://evil.test/",
    }).toString();
    const response = await fetch(endSession, { redirect: "manual" });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /post_logout_redirect_uri not registered/);
  });

  test("an interaction URL without its cookie shows an expiry page", async () => {
    const response = await fetch(`${idp.issuer}/interaction/not-a-real-uid`);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /Sign-in expired/);
  });
});

test("demoIdpSetup describes both stand-in clients and the demo users", () => {
  const { clients, users } = demoIdpSetup("http://localhost:3000");
  assert.deepEqual(
    clients.map(({ clientId, clientSecret, redirectUris, postLogoutRedirectUris }) => ({
      clientId,
      clientSecret,
      redirectUris,
      postLogoutRedirectUris,
    })),
    [
      {
        clientId: "gatehouse-okta",
        clientSecret: "gatehouse-okta-secret",
        redirectUris: ["http://localhost:3000/sso/oidc/callback"],
        postLogoutRedirectUris: ["http://localhost:3000/"],
      },
      {
        clientId: "gatehouse-linkedin",
        clientSecret: "gatehouse-linkedin-secret",
        redirectUris: ["http://localhost:3000/login/linkedin/callback"],
        postLogoutRedirectUris: ["http://localhost:3000/"],
      },
    ],
  );
  assert.deepEqual(
    users.map(({ email, name, password, emailVerified }) => ({ email, name, password, emailVerified })),
    [
      { email: "admin@acme.test", name: "Ada Admin", password: "admin-password", emailVerified: true },
      { email: "alice@acme.test", name: "Alice Anderson", password: "alice-password", emailVerified: true },
      { email: "bob@acme.test", name: "Bob Baker", password: "bob-password", emailVerified: true },
      { email: "carol@gmail.test", name: "Carol Chen", password: "carol-password", emailVerified: true },
    ],
  );
});
