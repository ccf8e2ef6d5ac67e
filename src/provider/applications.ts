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
import type { ApplicationAuthMethod } from "../store/provider-schema.js";
import { applicationSecretContext } from "./adapter.js";

export interface ApplicationInput {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[] | undefined;
  backchannelLogoutUri?: string | undefined;
  /** A browser or native application that cannot keep a secret: PKCE, no client authentication. */
  public?: boolean | undefined;
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
    tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
    redirectUris: app.redirectUris,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    backchannelLogoutUri: app.backchannelLogoutUri,
    jwksUri: app.jwksUri,
    createdAt: new Date(app.createdAt).toISOString(),
  };
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * An absolute https URL without a fragment (OAuth 2.0 3.1.2); plain http only for loopback
 * hosts, where a developer runs the application (RFC 8252 7.3). Compared exactly at sign-in.
 */
export function uriProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
  if (url.hash || value.includes("#")) return `"${value}" must not have a fragment`;
  if (url.username || url.password) return `"${value}" must not carry credentials`;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return undefined;
  return `"${value}" must be https (http only for localhost)`;
}

function checkInput(input: ApplicationInput): Record<string, string> {
  const fields: Record<string, string> = {};
  const name = input.name.trim();
  if (name.length === 0) fields.name = "Enter the application's name.";
  else if (name.length > 200) fields.name = "Use at most 200 characters.";
  else if (nameProblem(name)) fields.name = NAME_CHARACTERS_MESSAGE;
  if (input.redirectUris.length === 0) fields.redirectUris = "Give at least one redirect URI.";
  const lists: [string, string[]][] = [
    ["redirectUris", input.redirectUris],
    ["postLogoutRedirectUris", input.postLogoutRedirectUris ?? []],
    ["backchannelLogoutUri", input.backchannelLogoutUri === undefined ? [] : [input.backchannelLogoutUri]],
    ["jwksUri", input.jwksUri === undefined ? [] : [input.jwksUri]],
  ];
  for (const [field, values] of lists) {
    if (values.length > 20) fields[field] = "Give at most 20 URIs.";
    const problem = values.map(uriProblem).find((p) => p !== undefined);
    if (problem) fields[field] = problem;
  }
  if (input.public && input.tokenEndpointAuthMethod !== undefined) {
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
  const method: ApplicationAuthMethod = input.public
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
      { type: "application.created", outcome: "success", detail: { clientId, name: app.name, method } },
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
