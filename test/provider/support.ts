import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as client from "openid-client";
import { type ApplicationInput, createApplication } from "../../src/provider/applications.js";
import { type Answer, type Browser, csrfToken } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";

export const RP = "http://localhost:4299";
export const REDIRECT_URI = `${RP}/callback`;

export interface TestApplication {
  clientId: string;
  clientSecret: string | undefined;
  config: client.Configuration;
}

/** Registers an application and discovers Gatehouse the way an application's library does. */
export async function registerApplication(
  gh: TestGatehouse,
  input: Partial<ApplicationInput> = {},
): Promise<TestApplication> {
  const { application, clientSecret } = await createApplication(gh.ctx, {
    name: "Acme SaaS",
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: [`${RP}/signed-out`],
    ...input,
  });
  const auth =
    application.tokenEndpointAuthMethod === "none"
      ? client.None()
      : application.tokenEndpointAuthMethod === "client_secret_post"
        ? client.ClientSecretPost(clientSecret as string)
        : client.ClientSecretBasic(clientSecret as string);
  const config = await client.discovery(new URL(gh.url), application.clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
  return { clientId: application.clientId, clientSecret, config };
}

export interface Authorization {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export async function authorizationRequest(
  app: TestApplication,
  extra: Record<string, string> = {},
): Promise<Authorization> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(app.config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid email profile",
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  });
  return { url, state, nonce, codeVerifier };
}

const atApplication = (application: string) => (url: string) => url.startsWith(application);

/**
 * Follows Gatehouse's redirects from the authorization request; signs in with a password when
 * Gatehouse asks; stops at the redirect back to the application and returns that URL.
 */
export async function authorizeWithPassword(
  browser: Browser,
  gh: TestGatehouse,
  url: URL,
  email: string,
  password: string,
  application = RP,
): Promise<URL> {
  const isBack = atApplication(application);
  let page = await browser.follow(await browser.get(url.toString()), isBack);
  if (page.location && isBack(page.location)) return new URL(page.location);
  if (!page.body.includes('action="/login/password"')) {
    assert.equal(page.status, 200, `sign-in page expected, got ${page.status} ${page.location ?? ""}`);
    const returnTo = /name="return_to" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(returnTo, "the sign-in page carries return_to");
    page = await browser.post(`${gh.url}/login`, {
      _csrf: csrfToken(page.body),
      email,
      return_to: decode(returnTo),
    });
  }
  const returnTo = /name="return_to" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(returnTo, "the password step carries return_to");
  page = await browser.post(`${gh.url}/login/password`, {
    _csrf: csrfToken(page.body),
    email,
    password,
    return_to: decode(returnTo),
  });
  return backAtApplication(browser, page, application);
}

export async function backAtApplication(browser: Browser, answer: Answer, application = RP): Promise<URL> {
  const isBack = atApplication(application);
  const page = await browser.follow(answer, isBack);
  assert.ok(
    page.location && isBack(page.location),
    `expected a redirect to the application, got ${page.status} ${page.location ?? ""} ${page.url} ${page.body.slice(0, 1500)}`,
  );
  return new URL(page.location);
}

function decode(value: string): string {
  return value.replaceAll("&amp;", "&").replaceAll("&#x2F;", "/").replaceAll("&#47;", "/");
}

/** Submits oidc-provider's logout confirmation form (Gatehouse's or the development IdP's). */
export async function confirmLogout(browser: Browser, page: Answer): Promise<Answer> {
  assert.equal(page.status, 200, `logout confirmation expected, got ${page.status} ${page.location ?? ""}`);
  const action = /<form id="op\.logoutForm" method="post" action="([^"]+)"/.exec(page.body)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(action && xsrf, "logout form with its xsrf token");
  return browser.post(new URL(action.replaceAll("&amp;", "&"), page.url).toString(), { xsrf, logout: "yes" });
}

export interface LogoutReceiver {
  uri: string;
  tokens: string[];
  /** Answers with this status until set back to 200. */
  failWith: number;
  close(): Promise<void>;
}

/** An application's back-channel logout endpoint: records each logout_token POSTed to it. */
export async function startLogoutReceiver(): Promise<LogoutReceiver> {
  const tokens: string[] = [];
  const state = { failWith: 200 };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += String(chunk);
    });
    req.on("end", () => {
      if (state.failWith !== 200) {
        res.writeHead(state.failWith).end();
        return;
      }
      const token = new URLSearchParams(body).get("logout_token");
      if (token) tokens.push(token);
      res.writeHead(token ? 200 : 400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/backchannel-logout`,
    tokens,
    get failWith() {
      return state.failWith;
    },
    set failWith(value: number) {
      state.failWith = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
