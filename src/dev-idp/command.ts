import { parseArgs } from "node:util";
import { UsageError } from "../cli/output.js";
import { type DevIdp, type DevIdpClient, type DevIdpUser, demoIdpSetup, startDevIdp } from "./server.js";

const USAGE = `Usage: gatehouse dev-idp [--port <port>] [--gatehouse-url <url>]

Runs the development identity provider: a local OpenID Connect provider that stands in for
Okta (client gatehouse-okta) and LinkedIn (client gatehouse-linkedin), with demo users.

Options:
  --port <port>           Port to listen on (default 3001; 0 picks a free port)
  --gatehouse-url <url>   Gatehouse base URL the clients redirect back to
                          (default $GATEHOUSE_BASE_URL or http://localhost:3000/)
  -h, --help              Show this help
`;

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`--port must be a number from 0 to 65535\n\n${USAGE}`);
  return port;
}

function parseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--gatehouse-url must be an absolute URL, got "${text}"\n\n${USAGE}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--gatehouse-url must be an http or https URL, got "${text}"`);
  }
  // Redirect URIs are compared as exact strings, so the base must be spelled the way Gatehouse
  // builds its callback URLs: normalized, and ending in a slash.
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

function table(headings: string[], rows: string[][]): string {
  const widths = headings.map((heading, i) =>
    Math.max(heading.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `  ${cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  return line(headings) + line(widths.map((width) => "-".repeat(width))) + rows.map(line).join("");
}

function describe(idp: DevIdp, clients: DevIdpClient[], users: DevIdpUser[]): string {
  return [
    "Development IdP is running (development only; all state is lost when it stops).\n\n",
    `  Issuer     ${idp.issuer}\n`,
    `  Discovery  ${idp.issuer}/.well-known/openid-configuration\n\n`,
    "Clients\n",
    table(
      ["CLIENT ID", "CLIENT SECRET", "REDIRECT URI"],
      clients.map((client) => [client.clientId, client.clientSecret, client.redirectUris.join(" ")]),
    ),
    "\nUsers\n",
    table(
      ["EMAIL", "PASSWORD", "NAME"],
      users.map((user) => [user.email, user.password, user.name]),
    ),
    "\nPress Ctrl+C to stop.\n",
  ].join("");
}

function untilTerminated(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

export async function runDevIdpCommand(argv: string[]): Promise<number> {
  let values: { port?: string; "gatehouse-url"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        "gatehouse-url": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const port = parsePort(values.port ?? "3001");
  const baseUrl = parseBaseUrl(
    values["gatehouse-url"] ?? (process.env.GATEHOUSE_BASE_URL || "http://localhost:3000/"),
  );
  const { clients, users } = demoIdpSetup(baseUrl);
  const idp = await startDevIdp({ port, clients, users });
  process.stdout.write(describe(idp, clients, users));

  await untilTerminated();
  await idp.close();
  return 0;
}
