/**
 * SAML sign-in over HTTP against a running Gatehouse: a SAML connection stored as the service
 * stores one, a browser that starts at /sso/start, and the IdP's cross-site POST to the ACS URL
 * delivered as a browser delivers it (no SameSite=Lax cookies), then the page Gatehouse answers
 * with submitted from Gatehouse's origin (cookies sent).
 */
import assert from "node:assert/strict";
import { createSign, randomUUID } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { serviceProviderUrls } from "../../src/sso/saml/service-provider.js";
import { type SamlSettingsInput, validateSamlSettings } from "../../src/sso/saml/settings.js";
import { newSamlSettings } from "../../src/sso/saml/stored-settings.js";
import { listAuditEvents } from "../../src/store/audit.js";
import { insertConnection } from "../../src/store/connections.js";
import { type Answer, Browser } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import type { TestIdp } from "./hostile-idp.js";

export interface SamlConnectionFixture {
  id: string;
  acsUrl: string;
  entityId: string;
  sloUrl: string;
}

/** A SAML connection for `domains`, inserted as the service does (SP key pair sealed to its id). */
export async function addSamlConnection(
  gh: TestGatehouse,
  organizationId: string,
  input: SamlSettingsInput & { name?: string; domains?: string[]; groupsClaim?: string },
): Promise<SamlConnectionFixture> {
  const id = randomUUID();
  const { name, domains, groupsClaim, ...settingsInput } = input;
  const settings = validateSamlSettings(settingsInput, { allowInsecureUrls: true });
  const saml = await newSamlSettings(gh.ctx.box, id, settings);
  await gh.ctx.store.db.transaction().execute((trx) =>
    insertConnection(
      trx,
      {
        id,
        organizationId,
        name: name ?? `Acme SAML ${id.slice(0, 6)}`,
        domains: domains ?? ["acme.test"],
        createdByUserId: null,
        protocol: "saml",
        saml,
        ...(groupsClaim
          ? { roles: { groupsClaim, rules: [{ group: "admins", role: "admin" }], defaultRole: "member" } }
          : {}),
      },
      gh.ctx.now(),
    ),
  );
  return { id, ...serviceProviderUrls(gh.url, id) };
}

export interface StartedSamlSignIn {
  /** The IdP's SSO URL with SAMLRequest, RelayState, SigAlg and Signature. */
  url: URL;
  relayState: string;
  requestId: string;
  requestXml: string;
}

/** /sso/start with a work email: Gatehouse redirects to the IdP with a signed AuthnRequest. */
export async function beginSamlSignIn(
  browser: Browser,
  gh: TestGatehouse,
  email: string,
  options: { returnTo?: string; reauthenticate?: boolean } = {},
): Promise<StartedSamlSignIn> {
  const query = new URLSearchParams({ email });
  if (options.returnTo !== undefined) query.set("return_to", options.returnTo);
  if (options.reauthenticate) query.set("reauthenticate", "1");
  const start = await browser.get(`${gh.url}/sso/start?${query}`);
  assert.equal(start.status, 302, start.body);
  assert.ok(start.location);
  const url = new URL(start.location);
  const requestXml = inflateRawSync(
    Buffer.from(url.searchParams.get("SAMLRequest") ?? "", "base64"),
  ).toString();
  const requestId = /\bID="([^"]+)"/.exec(requestXml)?.[1];
  assert.ok(requestId, "the AuthnRequest has an ID");
  return { url, relayState: url.searchParams.get("RelayState") ?? "", requestId, requestXml };
}

/**
 * The IdP's HTTP-POST to the ACS URL, cross-site: the browser sends no SameSite=Lax cookie, so
 * this request carries none. Gatehouse answers with a page whose form the browser then submits
 * from Gatehouse's own origin, with its cookies; the answer to that is returned.
 */
export async function postToAcs(
  browser: Browser,
  acsUrl: string,
  fields: { SAMLResponse: string; RelayState?: string | undefined },
): Promise<Answer> {
  const crossSite = new Browser();
  const form: Record<string, string> = { SAMLResponse: fields.SAMLResponse };
  if (fields.RelayState !== undefined) form.RelayState = fields.RelayState;
  const page = await crossSite.post(acsUrl, form);
  if (page.status !== 200) return page;
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(action, "the ACS answers with a form that carries the response on");
  const carried: Record<string, string> = {};
  for (const [, name, value] of page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (name) carried[name] = unescapeHtml(value ?? "");
  }
  return browser.post(new URL(unescapeHtml(action), acsUrl).toString(), carried);
}

/**
 * The IdP's side of the HTTP-Redirect binding (SAML bindings 3.4.4.1): deflate, base64, and
 * sign the query's octets with RSA-SHA256.
 */
export function idpRedirect(
  idp: TestIdp,
  url: string,
  name: "SAMLRequest" | "SAMLResponse",
  xml: string,
  relayState?: string,
): string {
  const parts = [`${name}=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString("base64"))}`];
  if (relayState !== undefined) parts.push(`RelayState=${encodeURIComponent(relayState)}`);
  parts.push(`SigAlg=${encodeURIComponent(RSA_SHA256)}`);
  const signature = createSign("sha256").update(parts.join("&")).sign(idp.key.privateKeyPem, "base64");
  return `${url}?${parts.join("&")}&Signature=${encodeURIComponent(signature)}`;
}

export const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/** Who the browser is signed in as, from /api/v1/me; undefined without a session. */
export async function signedInEmail(browser: Browser, gh: TestGatehouse): Promise<string | undefined> {
  const me = await browser.get(`${gh.url}/api/v1/me`);
  if (me.status !== 200) return undefined;
  return (JSON.parse(me.body) as { user?: { email?: string } }).user?.email;
}

export async function lastSignInFailure(gh: TestGatehouse, organizationId: string) {
  const [event] = await listAuditEvents(gh.ctx.store.db, {
    organizationId,
    outcome: "failure",
    type: "sign_in.sso",
    limit: 1,
  });
  return event;
}

export async function userExists(gh: TestGatehouse, email: string): Promise<boolean> {
  const row = await gh.ctx.store.db
    .selectFrom("users")
    .select("id")
    .where("email", "=", email)
    .executeTakeFirst();
  return row !== undefined;
}

function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&#x2F;/g, "/")
    .replace(/&#x3D;/g, "=")
    .replace(/&amp;/g, "&");
}
