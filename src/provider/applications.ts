import { newId, randomToken } from "../crypto/tokens.js";
import { NAME_CHARACTERS_MESSAGE, nameProblem } from "../domain/names.js";
import { GatehouseError, validationError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import {
  type Application,
  deleteApplication as deleteApplicationRow,
  findApplication,
  insertApplication,
  listApplications as listApplicationRows,
} from "../store/applications.js";
import { insertAuditEvent } from "../store/audit.js";
import type { ApplicationAuthMethod, ApplicationType } from "../store/provider-schema.js";
import { applicationSecretContext } from "./adapter.js";
import { nativeRedirectUriProblem, uriProblem } from "./redirect-uris.js";

export interface ApplicationInput {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[] | undefined;
  backchannelLogoutUri?: string | undefined;
  /** A browser or native application that cannot keep a secret: PKCE, no client authentication. */
  public?: boolean | undefined;
  /**
   * `native` (RFC 8252): an application installed on a device, always public; its redirect URIs
   * may be loopback IP literals (any port at sign-in) or private-use schemes. Defaults to `web`.
   */
  applicationType?: ApplicationType | undefined;
  /** For confidential applications; defaults to client_secret_basic. */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post" | "private_key_jwt" | undefined;
  /** Where a private_key_jwt application publishes its keys. */
  jwksUri?: string | undefined;
}

/** What the CLI and the API show: never the secret. */
export interface ApplicationView {
  clientId: string;
  name: string;
  public: boolean;
  applicationType: ApplicationType;
  tokenEndpointAuthMethod: ApplicationAuthMethod;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  jwksUri: string | null;
  createdAt: string;
}

export function viewApplication(app: Application): ApplicationView {
  return {
    clientId: app.clientId,
    name: app.name,
    public: app.tokenEndpointAuthMethod === "none",
    applicationType: app.applicationType,
    tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
    redirectUris: app.redirectUris,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    backchannelLogoutUri: app.backchannelLogoutUri,
    jwksUri: app.jwksUri,
    createdAt: new Date(app.createdAt).toISOString(),
  };
}

function checkInput(input: ApplicationInput): Record<string, string> {
  const fields: Record<string, string> = {};
  const name = input.name.trim();
  if (name.length === 0) fields.name = "Enter the application's name.";
  else if (name.length > 200) fields.name = "Use at most 200 characters.";
  else if (nameProblem(name)) fields.name = NAME_CHARACTERS_MESSAGE;
  if (input.redirectUris.length === 0) fields.redirectUris = "Give at least one redirect URI.";
  const native = input.applicationType === "native";
  // oidc-provider checks post-logout redirect URIs by the application's type too.
  const redirectProblem = native ? nativeRedirectUriProblem : uriProblem;
  const lists: [string, string[], (value: string) => string | undefined][] = [
    ["redirectUris", input.redirectUris, redirectProblem],
    ["postLogoutRedirectUris", input.postLogoutRedirectUris ?? [], redirectProblem],
    [
      "backchannelLogoutUri",
      input.backchannelLogoutUri === undefined ? [] : [input.backchannelLogoutUri],
      uriProblem,
    ],
    ["jwksUri", input.jwksUri === undefined ? [] : [input.jwksUri], uriProblem],
  ];
  for (const [field, values, check] of lists) {
    if (values.length > 20) fields[field] = "Give at most 20 URIs.";
    const problem = values.map(check).find((p) => p !== undefined);
    if (problem) fields[field] = problem;
  }
  // RFC 8252 8.5: a secret shipped inside an installed application is no secret.
  if (native && input.public === false) {
    fields.public = "A native application is always public: it cannot keep a secret (RFC 8252 8.5).";
  }
  if ((input.public || native) && input.tokenEndpointAuthMethod !== undefined) {
    fields.tokenEndpointAuthMethod = "A public application does not authenticate at the token endpoint.";
  }
  if (input.tokenEndpointAuthMethod === "private_key_jwt" && input.jwksUri === undefined) {
    fields.jwksUri = "private_key_jwt needs the URI where the application publishes its keys.";
  }
  return fields;
}

/** Registers an application. The secret is returned here once and stored only sealed. */
export async function createApplication(
  ctx: AppContext,
  input: ApplicationInput,
): Promise<{ application: ApplicationView; clientSecret: string | undefined }> {
  const fields = checkInput(input);
  if (Object.keys(fields).length > 0) throw validationError(fields);
  const clientId = newId();
  const applicationType = input.applicationType ?? "web";
  const method: ApplicationAuthMethod =
    input.public || applicationType === "native"
      ? "none"
      : (input.tokenEndpointAuthMethod ?? "client_secret_basic");
  const clientSecret =
    method === "client_secret_basic" || method === "client_secret_post" ? randomToken(32) : undefined;
  const app: Application = {
    clientId,
    name: input.name.trim(),
    clientSecretSealed:
      clientSecret === undefined ? null : ctx.box.seal(clientSecret, applicationSecretContext(clientId)),
    tokenEndpointAuthMethod: method,
    applicationType,
    redirectUris: [...new Set(input.redirectUris)],
    postLogoutRedirectUris: [...new Set(input.postLogoutRedirectUris ?? [])],
    backchannelLogoutUri: input.backchannelLogoutUri ?? null,
    jwksUri: input.jwksUri ?? null,
    createdAt: ctx.now(),
  };
  await ctx.store.db.transaction().execute(async (trx) => {
    await insertApplication(trx, app);
    await insertAuditEvent(
      trx,
      {
        type: "application.created",
        outcome: "success",
        detail: { clientId, name: app.name, method, applicationType },
      },
      app.createdAt,
    );
  });
  return { application: viewApplication(app), clientSecret };
}

export async function listApplications(
  ctx: AppContext,
  page?: { limit: number; after?: readonly [number, string] | undefined },
): Promise<ApplicationView[]> {
  return (await listApplicationRows(ctx.store.db, page)).map(viewApplication);
}

export async function getApplication(ctx: AppContext, clientId: string): Promise<ApplicationView> {
  const app = await findApplication(ctx.store.db, clientId);
  if (!app) throw new GatehouseError("APPLICATION_NOT_FOUND", "No application has this client id.");
  return viewApplication(app);
}

export async function deleteApplication(ctx: AppContext, clientId: string): Promise<void> {
  if (!(await deleteApplicationRow(ctx.store.db, clientId))) {
    throw new GatehouseError("APPLICATION_NOT_FOUND", "No application has this client id.");
  }
  await insertAuditEvent(
    ctx.store.db,
    { type: "application.deleted", outcome: "success", detail: { clientId } },
    ctx.now(),
  );
}
