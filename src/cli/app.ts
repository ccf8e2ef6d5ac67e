import { createApplication, deleteApplication, listApplications } from "../provider/applications.js";
import { help, parseOptions, required, withContext } from "./options.js";
import { printJson, table, UsageError } from "./output.js";

const USAGE = `Usage: gatehouse app <create|list|delete> [options]

Applications sign people in through Gatehouse with OpenID Connect (Gatehouse is their OpenID Provider).

Commands:
  create   Register an application; prints its client id, and its secret once on the last line
  list     List the registered applications
  delete   Delete an application: its tokens stop working

Run "gatehouse app <command> --help" for a command's options.
`;

const CREATE_USAGE = `Usage: gatehouse app create --name <name> --redirect-uri <uri> [options]

Registers an application. Prints the client id; for a confidential application, the client
secret follows once, on the last line: store it now, it cannot be shown again.
  --name                       the application's name, shown to people signing in
  --redirect-uri               an exact redirect URI (repeat for several); https, or http for localhost
  --post-logout-redirect-uri   where RP-initiated logout may return (repeat for several)
  --backchannel-logout-uri     where Gatehouse POSTs logout tokens when a session ends
  --public                     a browser application without a secret (PKCE required)
  --native                     a native application (RFC 8252), public: its redirect URIs may be
                               http://127.0.0.1/... or http://[::1]/... (any port at sign-in),
                               a reverse-domain private-use scheme (com.example.app:/callback), or https
  --auth-method                client_secret_basic (default), client_secret_post or private_key_jwt
  --jwks-uri                   the application's key set, for private_key_jwt
`;

const LIST_USAGE = `Usage: gatehouse app list [--json]

Lists the registered applications: client id, name, type and redirect URIs.
  --json   print a JSON array of the applications as the API answers them (no secrets)
`;

const DELETE_USAGE = `Usage: gatehouse app delete --client-id <client id>

Deletes the application. Its codes and tokens stop working at once.
`;

export async function runAppCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "create":
      return runCreate(rest);
    case "list":
      return runList(rest);
    case "delete":
      return runDelete(rest);
    case "--help":
    case "-h":
    case "help":
      return help(USAGE);
    case undefined:
      throw new UsageError(`missing command\n\n${USAGE}`);
    default:
      throw new UsageError(`unknown command "app ${sub}"\n\n${USAGE}`);
  }
}

const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"] as const;

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? [value] : [];
}

function optional(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

async function runCreate(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    name: { type: "string" },
    "redirect-uri": { type: "string", multiple: true },
    "post-logout-redirect-uri": { type: "string", multiple: true },
    "backchannel-logout-uri": { type: "string" },
    public: { type: "boolean" },
    native: { type: "boolean" },
    "auth-method": { type: "string" },
    "jwks-uri": { type: "string" },
  });
  if (values.help) return help(CREATE_USAGE);
  const name = required(values, "name", CREATE_USAGE);
  const redirectUris = list(values["redirect-uri"]);
  if (redirectUris.length === 0) throw new UsageError(`--redirect-uri is required\n\n${CREATE_USAGE}`);
  const method = optional(values["auth-method"]);
  if (method !== undefined && !AUTH_METHODS.includes(method as (typeof AUTH_METHODS)[number])) {
    throw new UsageError(`--auth-method must be one of ${AUTH_METHODS.join(", ")}`);
  }
  // Registering the application is part of setting up a new deployment, maybe before its first start.
  return withContext(
    async (ctx) => {
      const { application, clientSecret } = await createApplication(ctx, {
        name,
        redirectUris,
        postLogoutRedirectUris: list(values["post-logout-redirect-uri"]),
        backchannelLogoutUri: optional(values["backchannel-logout-uri"]),
        public: values.public === true ? true : undefined,
        applicationType: values.native === true ? "native" : undefined,
        tokenEndpointAuthMethod: method as (typeof AUTH_METHODS)[number] | undefined,
        jwksUri: optional(values["jwks-uri"]),
      });
      const issuer = ctx.config.baseUrl.toString().replace(/\/$/, "");
      process.stdout.write(
        `Registered "${application.name}".\nIssuer:    ${issuer}\nClient ID: ${application.clientId}\n`,
      );
      if (clientSecret !== undefined) {
        process.stdout.write(`Client secret (shown once; store it now):\n${clientSecret}\n`);
      }
      return 0;
    },
    { createDatabase: true },
  );
}

async function runList(args: string[]): Promise<number> {
  const values = parseOptions(args, { json: { type: "boolean" } });
  if (values.help) return help(LIST_USAGE);
  return withContext(async (ctx) => {
    const apps = await listApplications(ctx);
    if (values.json) {
      printJson(apps);
      return 0;
    }
    if (apps.length === 0) {
      process.stdout.write("No applications.\n");
      return 0;
    }
    process.stdout.write(
      table(
        ["CLIENT ID", "NAME", "TYPE", "REDIRECT URIS"],
        apps.map((app) => [
          app.clientId,
          app.name,
          app.applicationType === "native" ? "native" : app.public ? "public" : app.tokenEndpointAuthMethod,
          app.redirectUris.join(" "),
        ]),
      ),
    );
    return 0;
  });
}

async function runDelete(args: string[]): Promise<number> {
  const values = parseOptions(args, { "client-id": { type: "string" } });
  if (values.help) return help(DELETE_USAGE);
  const clientId = required(values, "client-id", DELETE_USAGE);
  return withContext(async (ctx) => {
    await deleteApplication(ctx, clientId);
    process.stdout.write(`Deleted application ${clientId}.\n`);
    return 0;
  });
}
