import assert from "node:assert/strict";
import { isSamlCheckError, type SamlCheck } from "../../src/sso/saml/checks.js";
import { type ServiceProvider, serviceProviderUrls } from "../../src/sso/saml/service-provider.js";
import { type SamlSettings, validateSamlSettings } from "../../src/sso/saml/settings.js";
import { generateSpKeyPair } from "../../src/sso/saml/sp-keys.js";
import { type SamlAssertion, validateSamlResponse } from "../../src/sso/saml/validate-response.js";
import {
  composeResponse,
  createTestIdp,
  type ResponseFields,
  signAssertion,
  type TestIdp,
  toPostField,
} from "./hostile-idp.js";

export const NOW = new Date("2026-03-02T10:00:00.000Z");
export const REQUEST_ID = "_a1b2c3d4e5f60718293a4b5c6d7e8f90";

export interface SamlHarness {
  idp: TestIdp;
  sp: ServiceProvider;
  settings: SamlSettings;
  /** Assertion IDs seen so far, as the store will keep them. */
  seen: Map<string, Date>;
  /** Fields of a correct response to this harness's SP; override one to break one rule. */
  fields(overrides?: Partial<ResponseFields>): ResponseFields;
  /** A correct response: composed, assertion signed by the IdP's configured key. */
  signedResponse(overrides?: Partial<ResponseFields>): string;
  validate(
    xmlOrField: string,
    options?: { now?: Date; requestIds?: ReadonlySet<string>; raw?: boolean },
  ): Promise<SamlAssertion>;
}

export async function startSamlHarness(options: { allowIdpInitiated?: boolean } = {}): Promise<SamlHarness> {
  const idp = await createTestIdp();
  const keyPair = await generateSpKeyPair({ commonName: "gatehouse test sp" });
  const sp: ServiceProvider = { ...serviceProviderUrls("https://gatehouse.test", "conn_saml_1"), keyPair };
  const settings = validateSamlSettings({
    metadataXml: idp.metadataXml(),
    allowIdpInitiated: options.allowIdpInitiated ?? false,
  });
  const seen = new Map<string, Date>();
  const fields = (overrides: Partial<ResponseFields> = {}): ResponseFields => ({
    idp,
    acsUrl: sp.acsUrl,
    spEntityId: sp.entityId,
    requestId: REQUEST_ID,
    now: NOW,
    ...overrides,
  });
  return {
    idp,
    sp,
    settings,
    seen,
    fields,
    signedResponse: (overrides) => signAssertion(composeResponse(fields(overrides)), { key: idp.key }),
    validate: (xml, o = {}) =>
      validateSamlResponse({
        samlResponse: o.raw ? xml : toPostField(xml),
        settings,
        sp,
        requestIds: o.requestIds ?? new Set([REQUEST_ID]),
        rememberAssertionId: (id, notOnOrAfter) => {
          if (seen.has(id)) return false;
          seen.set(id, notOnOrAfter);
          return true;
        },
        now: o.now ?? NOW,
      }),
  };
}

/** The promise rejects with a SamlCheckError naming exactly this check. */
export async function assertRefused(promise: Promise<unknown>, check: SamlCheck): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isSamlCheckError(error), `expected a SamlCheckError, got ${String(error)}`);
    assert.equal(error.check, check, error.detail);
    return true;
  });
}
