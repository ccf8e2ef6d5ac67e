import type { Adapter, AdapterPayload, ClientMetadataInput } from "oidc-provider";
import type { SecretBox } from "../crypto/secret-box.js";
import type { Application } from "../store/applications.js";
import { findApplication } from "../store/applications.js";
import type { Store } from "../store/database.js";
import {
  consumeProviderRecord,
  destroyProviderRecord,
  destroyProviderRecordsOfGrant,
  findProviderRecord,
  upsertProviderRecord,
} from "../store/provider-records.js";

export interface AdapterDeps {
  store: Store;
  box: SecretBox;
  now: () => number;
}

export function applicationSecretContext(clientId: string): string {
  return `application:${clientId}`;
}

/** What oidc-provider needs to know about a registered application. */
export function clientMetadata(box: SecretBox, app: Application): ClientMetadataInput {
  const secret =
    app.clientSecretSealed === null
      ? {}
      : { client_secret: box.open(app.clientSecretSealed, applicationSecretContext(app.clientId)) };
  return {
    client_id: app.clientId,
    client_name: app.name,
    ...secret,
    // A native application's loopback redirect URIs match on any port (RFC 8252 7.3), and its
    // redirect URIs are checked by RFC 8252's rules, by oidc-provider itself.
    application_type: app.applicationType,
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: app.tokenEndpointAuthMethod,
    // Applications learn when the person signed in to Gatehouse, in every ID token.
    require_auth_time: true,
    ...(app.jwksUri === null ? {} : { jwks_uri: app.jwksUri }),
    ...(app.backchannelLogoutUri === null
      ? {}
      : { backchannel_logout_uri: app.backchannelLogoutUri, backchannel_logout_session_required: true }),
  };
}

/**
 * oidc-provider's storage contract over Kysely, on SQLite and PostgreSQL alike, so a code issued
 * by one instance is redeemed at another. Clients are the operator's registered applications;
 * every other model is a JSON record with its expiry and the lookups oidc-provider asks for
 * (grant id, session uid, user code).
 */
export function kyselyAdapter(deps: AdapterDeps): new (model: string) => Adapter {
  const { store, box, now } = deps;
  return class KyselyAdapter implements Adapter {
    readonly #model: string;

    constructor(model: string) {
      this.#model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
      if (this.#model === "Client") throw new Error("applications are registered by the operator");
      await upsertProviderRecord(store.db, {
        model: this.#model,
        id,
        payload,
        expiresAt: expiresIn ? now() + expiresIn * 1000 : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.#model === "Client") {
        const app = await findApplication(store.db, id);
        return app ? { ...clientMetadata(box, app) } : undefined;
      }
      return this.#found(await findProviderRecord(store.db, this.#model, "id", id, now()));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#found(await findProviderRecord(store.db, this.#model, "uid", uid, now()));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#found(await findProviderRecord(store.db, this.#model, "user_code", userCode, now()));
    }

    async consume(id: string): Promise<void> {
      await consumeProviderRecord(store.db, this.#model, id, now());
    }

    async destroy(id: string): Promise<void> {
      await destroyProviderRecord(store.db, this.#model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await destroyProviderRecordsOfGrant(store.db, grantId);
    }

    #found(record: Awaited<ReturnType<typeof findProviderRecord>>): AdapterPayload | undefined {
      if (!record) return undefined;
      // oidc-provider tells a replayed code or rotated refresh token by `consumed`.
      return record.consumedAt === null
        ? record.payload
        : { ...record.payload, consumed: Math.floor(record.consumedAt / 1000) };
    }
  };
}
