/**
 * The claims table of docs/integrate-your-application.md, checked cell by cell against real
 * sign-ins (password with an organization, SSO, LinkedIn without an organization): every claim
 * it promises in the ID token or at userinfo is there, and every one it says is not, is not.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import type { DevIdp } from "../../src/dev-idp/server.js";
import { Browser } from "../support/browserless.js";
import type { TestGatehouse } from "../support/gatehouse.js";
import {
  ADMIN,
  connectAcme,
  seedAcme,
  signInAtIdp,
  ssoSignIn,
  startGatehouseWithIdp,
} from "../support/sso.js";
import {
  authorizationRequest,
  authorizeWithPassword,
  backAtApplication,
  registerApplication,
} from "./support.js";

interface DocumentedClaim {
  claim: string;
  idToken: string;
  userinfo: string;
}

/** The rows of the "Claims" table: one entry per claim named in a row's first cell. */
function documentedClaims(): DocumentedClaim[] {
  const doc = readFileSync(new URL("../../docs/integrate-your-application.md", import.meta.url), "utf8");
  const section = doc.slice(
    doc.indexOf("\n## Claims\n"),
    doc.indexOf("\n## ", doc.indexOf("\n## Claims\n") + 1),
  );
  const rows = section.split("\n").filter((line) => line.startsWith("| `"));
  return rows.flatMap((row) => {
    const [names = "", , idToken = "", userinfo = ""] = row
      .split("|")
      .slice(1)
      .map((cell) => cell.trim());
    return [...names.matchAll(/`([a-z_]+)`/g)].map((m) => ({ claim: m[1] as string, idToken, userinfo }));
  });
}

interface SignIn {
  label: string;
  organization: boolean;
  sso: boolean;
  /** The Gatehouse account's display name has a given and a family name. */
  named: boolean;
  idToken: Record<string, unknown>;
  userinfo: Record<string, unknown>;
}

/** Whether a cell of the table says the claim is present for this sign-in. */
function promised(cell: string, signIn: SignIn): boolean {
  switch (cell) {
    case "yes":
      return true;
    case "no":
      return false;
    case "with an organization":
      return signIn.organization;
    case "SSO only":
      return signIn.sso;
    case "when known":
      return signIn.named;
    default:
      throw new Error(`the claims table uses "${cell}", which this test does not know: teach it`);
  }
}

describe("the documented claims, where the documentation says they are", () => {
  let gh: TestGatehouse;
  let idp: DevIdp;
  const signIns: SignIn[] = [];

  async function tokensFor(
    app: Awaited<ReturnType<typeof registerApplication>>,
    url: URL,
    request: Awaited<ReturnType<typeof authorizationRequest>>,
  ) {
    const tokens = await client.authorizationCodeGrant(app.config, url, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    const idToken = tokens.claims() as Record<string, unknown>;
    const userinfo = await client.fetchUserInfo(app.config, tokens.access_token, idToken.sub as string);
    return { idToken, userinfo: userinfo as Record<string, unknown> };
  }

  before(async () => {
    ({ gh, idp } = await startGatehouseWithIdp());
    const { organizationId } = await seedAcme(gh);
    // Without a back-channel logout URI: sid is still promised in the ID token.
    const app = await registerApplication(gh);

    const password = await authorizationRequest(app);
    const back = await authorizeWithPassword(new Browser(), gh, password.url, ADMIN.email, ADMIN.password);
    signIns.push({
      label: "password, with an organization, no name",
      organization: true,
      sso: false,
      named: false,
      ...(await tokensFor(app, back, password)),
    });

    await connectAcme(gh, idp, organizationId);
    const alice = new Browser();
    await ssoSignIn(alice, gh, idp, "alice@acme.test", "alice-password");
    const sso = await authorizationRequest(app);
    signIns.push({
      label: "SSO",
      organization: true,
      sso: true,
      named: true,
      ...(await tokensFor(app, await backAtApplication(alice, await alice.get(sso.url.toString())), sso)),
    });

    const carol = new Browser();
    const start = await carol.get(`${gh.url}/login/linkedin`);
    const linkedinBack = await signInAtIdp(carol, start, idp, "carol@gmail.test", "carol-password", gh.url);
    await carol.get(linkedinBack.location as string);
    const linkedin = await authorizationRequest(app);
    signIns.push({
      label: "LinkedIn, without an organization",
      organization: false,
      sso: false,
      named: true,
      ...(await tokensFor(
        app,
        await backAtApplication(carol, await carol.get(linkedin.url.toString())),
        linkedin,
      )),
    });
  });
  after(async () => {
    await gh.close();
    await idp.close();
  });

  test("the table names every claim Gatehouse releases", () => {
    const documented = documentedClaims().map((c) => c.claim);
    assert.ok(documented.length >= 14, `the table was read: ${documented.join(", ")}`);
    for (const signIn of signIns) {
      const released = new Set([...Object.keys(signIn.idToken), ...Object.keys(signIn.userinfo)]);
      // The JWT's own claims are the token's, not the person's.
      for (const registered of ["iss", "aud", "exp", "iat", "nonce", "azp", "at_hash"])
        released.delete(registered);
      for (const claim of released)
        assert.ok(documented.includes(claim), `${claim} (${signIn.label}) is not documented`);
    }
  });

  test("each claim is in the ID token and at userinfo exactly where the table says", () => {
    for (const { claim, idToken, userinfo } of documentedClaims()) {
      for (const signIn of signIns) {
        assert.equal(
          claim in signIn.idToken,
          promised(idToken, signIn),
          `${claim} in the ID token (${signIn.label}): the table says "${idToken}"`,
        );
        assert.equal(
          claim in signIn.userinfo,
          promised(userinfo, signIn),
          `${claim} at userinfo (${signIn.label}): the table says "${userinfo}"`,
        );
      }
    }
  });

  test("the values the table describes", () => {
    const [password, sso, linkedin] = signIns;
    assert.ok(password && sso && linkedin);
    assert.deepEqual(password.idToken.amr, ["pwd"]);
    assert.deepEqual(password.userinfo.amr, ["pwd"]);
    assert.deepEqual(sso.idToken.amr, ["fed"]);
    assert.deepEqual(linkedin.userinfo.amr, ["fed"]);
    assert.equal(sso.idToken.auth_method, "sso");
    assert.equal(linkedin.idToken.auth_method, "linkedin");
    assert.equal(password.idToken.org_slug, "acme");
    assert.equal(password.idToken.org_role, "owner");
    assert.equal(sso.userinfo.org_role, "member");
    assert.equal(sso.idToken.email_verified, true);
    assert.equal(password.idToken.email_verified, false);
    assert.equal(linkedin.idToken.given_name, "Carol");
    assert.equal(linkedin.idToken.family_name, "Chen");
    for (const signIn of signIns) {
      assert.equal(typeof signIn.idToken.sid, "string", `sid (${signIn.label})`);
      assert.equal(typeof signIn.idToken.auth_time, "number", `auth_time (${signIn.label})`);
    }
  });
});
