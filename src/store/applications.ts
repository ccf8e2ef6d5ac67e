import type { Kysely } from "kysely";
import type { ApplicationAuthMethod, ApplicationType } from "./provider-schema.js";
import type { Database } from "./schema.js";

export interface Application {
  clientId: string;
  name: string;
  clientSecretSealed: string | null;
  tokenEndpointAuthMethod: ApplicationAuthMethod;
  applicationType: ApplicationType;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  jwksUri: string | null;
  createdAt: number;
}

type Row = Database["applications"];

function toApplication(row: Row): Application {
  return {
    clientId: row.client_id,
    name: row.name,
    clientSecretSealed: row.client_secret_sealed,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    applicationType: row.application_type,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    backchannelLogoutUri: row.backchannel_logout_uri,
    jwksUri: row.jwks_uri,
    createdAt: row.created_at,
  };
}

export async function insertApplication(db: Kysely<Database>, app: Application): Promise<void> {
  await db
    .insertInto("applications")
    .values({
      client_id: app.clientId,
      name: app.name,
      client_secret_sealed: app.clientSecretSealed,
      token_endpoint_auth_method: app.tokenEndpointAuthMethod,
      application_type: app.applicationType,
      redirect_uris: JSON.stringify(app.redirectUris),
      post_logout_redirect_uris: JSON.stringify(app.postLogoutRedirectUris),
      backchannel_logout_uri: app.backchannelLogoutUri,
      jwks_uri: app.jwksUri,
      created_at: app.createdAt,
    })
    .execute();
}

export async function findApplication(
  db: Kysely<Database>,
  clientId: string,
): Promise<Application | undefined> {
  const row = await db
    .selectFrom("applications")
    .selectAll()
    .where("client_id", "=", clientId)
    .executeTakeFirst();
  return row ? toApplication(row) : undefined;
}

/** Oldest first; `page` reads `limit` applications after the (created_at, client_id) key `after`. */
export async function listApplications(
  db: Kysely<Database>,
  page?: { limit: number; after?: readonly [number, string] | undefined },
): Promise<Application[]> {
  let query = db.selectFrom("applications").selectAll().orderBy("created_at").orderBy("client_id");
  const after = page?.after;
  if (after)
    query = query.where((eb) =>
      eb(eb.refTuple("created_at", "client_id"), ">", eb.tuple(after[0], after[1])),
    );
  if (page) query = query.limit(page.limit);
  return (await query.execute()).map(toApplication);
}

/** Deletes the application and what it could still use: its sign-ins and pending logout tokens. */
export async function deleteApplication(db: Kysely<Database>, clientId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.deleteFrom("applications").where("client_id", "=", clientId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) return false;
    await trx.deleteFrom("application_sign_ins").where("client_id", "=", clientId).execute();
    await trx.deleteFrom("backchannel_logouts").where("client_id", "=", clientId).execute();
    return true;
  });
}
