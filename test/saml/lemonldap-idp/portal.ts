/**
 * A LemonLDAP::NG portal as a SAML 2.0 IdP (test/support/lemonldap-portal.ts runs it): its SAML
 * issuer, built on Lasso (Debian's liblasso-perl), with the service provider options of
 * lmConf.json. The portal starts trusting no SP: Gatehouse's SP metadata exists only once the
 * connection is created from the portal's IdP metadata, and is then saved as a new
 * configuration, as the portal's admin would paste it into the Manager.
 *
 * lmConf.json spells out the SP options the Manager writes for a new SP (its defaults): the
 * portal on its own reads a missing option as off, and would then not check the AuthnRequest's
 * signature. The exported attributes (mail, cn, groups) are the only SP settings chosen here;
 * nothing else differs from the Manager's defaults.
 */
import { readFile } from "node:fs/promises";
import { generateSpKeyPair, type SpKeyPair } from "../../../src/sso/saml/sp-keys.js";
import {
  PORTAL_PACKAGES,
  type PortalConf,
  portalAvailable,
  runLemonldapPortal,
} from "../../support/lemonldap-portal.js";

const FIXTURE = new URL("./lmConf.json", import.meta.url);

/** The SP's key in the portal's configuration, as the Manager names a service provider. */
const SP = "gatehouse";

/**
 * The SAML issuer needs Lasso's Perl binding and XML::Simple besides the portal's packages:
 * Debian's portal package only suggests the one and does not name the other.
 */
export const SAML_ISSUER_PACKAGES = [...PORTAL_PACKAGES, "liblasso-perl", "libxml-simple-perl"] as const;

/** Why the portal's SAML issuer cannot run here, or undefined when it can. */
export function lemonldapSamlMissing(): string | undefined {
  return portalAvailable(["Lasso", "XML::Simple"])
    ? undefined
    : `LemonLDAP::NG's portal with Lasso is not installed (${SAML_ISSUER_PACKAGES.join(" ")})`;
}

export interface LemonldapSamlIdp {
  /** The portal URL, with its trailing slash. */
  url: string;
  /** `#PORTAL#/saml/metadata`: the IdP's metadata URL, which is also its entity ID. */
  metadataUrl: string;
  /** The IdP's signing key pair, as it signs now. */
  key: SpKeyPair;
  /** Trusts Gatehouse's SP from its metadata XML: a new configuration. */
  trustServiceProvider(metadataXml: string): Promise<void>;
  /** Changes options of Gatehouse's SP (`samlSPMetaDataOptions*`): a new configuration. */
  setServiceProviderOptions(options: Record<string, string | number>): Promise<void>;
  /** Signs with `key` from the next request on: a new configuration. */
  useSigningKey(key: SpKeyPair): Promise<void>;
  /** The end of the portal's output, for a failing assertion's message. */
  output(): string;
  outputMark(): number;
  outputSince(mark: number, until: RegExp): Promise<string>;
  close(): Promise<void>;
}

export async function startLemonldapSamlIdp(): Promise<LemonldapSamlIdp> {
  const fixture = JSON.parse(await readFile(FIXTURE, "utf8")) as PortalConf;
  let key = await generateSpKeyPair({ commonName: "lemonldap-ng saml idp" });
  let spMetadataXml: string | undefined;
  let spOptions: Record<string, string | number> = {};
  const conf = (): PortalConf => {
    const signing = {
      samlServicePrivateKeySig: key.privateKeyPem,
      samlServicePrivateKeySigPwd: "",
      samlServicePublicKeySig: key.certificatePem,
    };
    if (spMetadataXml === undefined) {
      const { samlSPMetaDataExportedAttributes, samlSPMetaDataOptions, ...rest } = fixture;
      return { ...rest, ...signing };
    }
    const options = fixture.samlSPMetaDataOptions as Record<string, Record<string, string | number>>;
    return {
      ...fixture,
      ...signing,
      samlSPMetaDataXML: { [SP]: { samlSPMetaDataXML: spMetadataXml } },
      samlSPMetaDataOptions: { [SP]: { ...options[SP], ...spOptions } },
    };
  };
  const portal = await runLemonldapPortal(
    conf,
    async (url) => (await fetch(`${url}saml/metadata`).catch(() => undefined))?.status === 200,
    { logLevel: "info" },
  );
  let cfgNum = fixture.cfgNum;
  /** A new configuration, as the Manager saves one, in force once the portal says it loaded it. */
  const save = async () => {
    cfgNum += 1;
    await portal.saveConf({ ...conf(), cfgNum });
    await portal.confLoaded(cfgNum);
  };
  return {
    url: portal.url,
    metadataUrl: `${portal.url}saml/metadata`,
    get key() {
      return key;
    },
    async trustServiceProvider(metadataXml) {
      spMetadataXml = metadataXml;
      await save();
    },
    async setServiceProviderOptions(options) {
      spOptions = options;
      await save();
    },
    async useSigningKey(next) {
      key = next;
      await save();
    },
    output: portal.output,
    outputMark: portal.outputMark,
    outputSince: portal.outputSince,
    close: portal.close,
  };
}
