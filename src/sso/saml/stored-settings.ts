import type { SecretBox } from "../../crypto/secret-box.js";
import type { NewSamlSettings, SamlConnectionSettings } from "../../store/connection-saml.js";
import { type ServiceProvider, serviceProviderUrls } from "./service-provider.js";
import type { SamlSettings } from "./settings.js";
import { generateSpKeyPair } from "./sp-keys.js";

/**
 * Between the protocol module's settings and the stored row: a new connection's row (with its
 * own SP key pair, the private key sealed to the connection's id), and back again when a flow
 * needs the settings and the key.
 */

/** The secret box context of a SAML connection's SP private key: bound to the row it is in. */
export function spKeyContext(connectionId: string): string {
  return `connection-saml-key:${connectionId}`;
}

/** What a new SAML connection stores: the validated settings and a fresh SP key pair. */
export async function newSamlSettings(
  box: SecretBox,
  connectionId: string,
  settings: SamlSettings,
  options: { metadataUrl?: string | null; commonName?: string } = {},
): Promise<NewSamlSettings> {
  const keyPair = await generateSpKeyPair({ commonName: options.commonName ?? `Gatehouse ${connectionId}` });
  return {
    ...settingsColumns(settings),
    metadataUrl: options.metadataUrl ?? null,
    spPrivateKeySealed: box.seal(keyPair.privateKeyPem, spKeyContext(connectionId)),
    spCertificate: keyPair.certificatePem,
  };
}

/** The stored columns that validated settings change (an edit keeps the key pair). */
export function settingsColumns(
  settings: SamlSettings,
): Omit<SamlConnectionSettings, "metadataUrl" | "spPrivateKeySealed" | "spCertificate"> {
  return {
    entityId: settings.idp.entityId,
    ssoUrl: settings.idp.ssoUrl,
    sloUrl: settings.idp.sloUrl ?? null,
    sloResponseUrl: settings.idp.sloResponseUrl ?? null,
    signingCertificates: settings.idp.signingCertificates,
    wantAuthnRequestsSigned: settings.idp.wantAuthnRequestsSigned,
    allowIdpInitiated: settings.allowIdpInitiated,
    emailAttribute: settings.attributes.email ?? null,
    nameAttribute: settings.attributes.name ?? null,
    groupsAttribute: settings.attributes.groups ?? null,
  };
}

/** The protocol module's settings from the stored row. */
export function samlSettingsOf(stored: SamlConnectionSettings): SamlSettings {
  return {
    idp: {
      entityId: stored.entityId,
      ssoUrl: stored.ssoUrl,
      ssoBinding: "redirect",
      ...(stored.sloUrl ? { sloUrl: stored.sloUrl, sloBinding: "redirect" as const } : {}),
      ...(stored.sloUrl && stored.sloResponseUrl ? { sloResponseUrl: stored.sloResponseUrl } : {}),
      signingCertificates: stored.signingCertificates,
      wantAuthnRequestsSigned: stored.wantAuthnRequestsSigned,
    },
    allowIdpInitiated: stored.allowIdpInitiated,
    attributes: {
      ...(stored.emailAttribute ? { email: stored.emailAttribute } : {}),
      ...(stored.nameAttribute ? { name: stored.nameAttribute } : {}),
      ...(stored.groupsAttribute ? { groups: stored.groupsAttribute } : {}),
    },
  };
}

/** Gatehouse's side of the connection, with the private key opened for this one flow. */
export function serviceProviderOf(
  box: SecretBox,
  baseUrl: string,
  connectionId: string,
  stored: Pick<SamlConnectionSettings, "spPrivateKeySealed" | "spCertificate">,
): ServiceProvider {
  return {
    ...serviceProviderUrls(baseUrl, connectionId),
    keyPair: {
      privateKeyPem: box.open(stored.spPrivateKeySealed, spKeyContext(connectionId)),
      certificatePem: stored.spCertificate,
    },
  };
}
