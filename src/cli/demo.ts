import { createOrganizationWithAdmin } from "../accounts/organizations.js";
import { loadConfig, maskDatabaseUrl } from "../config.js";
import { demoIdpSetup, startDevIdp } from "../dev-idp/server.js";
import { addDomain } from "../domains/add.js";
import { buildApp } from "../server/app.js";
import { createContext } from "../server/context-factory.js";
import { startMaintenance } from "../server/maintenance.js";
import { findOrganizationBySlug } from "../store/organizations.js";
import { demoBanner } from "./demo-banner.js";
import { help, parseOptions } from "./options.js";
import { startSampleApplication } from "./sample-app.js";
import { waitForShutdown } from "./serve.js";

const DEMO_USAGE = `Usage: gatehouse demo [--idp-port 3001] [--app-port 3002]

Runs everything a newcomer needs on one machine: Gatehouse (SQLite under ./data), the bundled
development IdP standing in for Okta and LinkedIn, a seeded organization with its admin, and the
sample application (examples/saas-app) signing in through Gatehouse.
Environment variables (PORT, GATEHOUSE_BASE_URL, GATEHOUSE_DATABASE_URL, ...) still apply.
`;

export const DEMO_ORG = {
  slug: "acme",
  name: "Acme Corporation",
  adminEmail: "admin@acme.test",
  adminPassword: "acme-demo-password",
};

export async function runDemo(args: string[]): Promise<number> {
  const values = parseOptions(args, { "idp-port": { type: "string" }, "app-port": { type: "string" } });
  if (values.help) return help(DEMO_USAGE);
  const idpPort = Number(values["idp-port"] ?? 3001);
  const idpIssuer = `http://localhost:${idpPort}`;
  const env = {
    ...process.env,
    GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1",
    GATEHOUSE_LINKEDIN_ISSUER: process.env.GATEHOUSE_LINKEDIN_ISSUER || idpIssuer,
    GATEHOUSE_LINKEDIN_CLIENT_ID: process.env.GATEHOUSE_LINKEDIN_CLIENT_ID || "gatehouse-linkedin",
    GATEHOUSE_LINKEDIN_CLIENT_SECRET:
      process.env.GATEHOUSE_LINKEDIN_CLIENT_SECRET || "gatehouse-linkedin-secret",
    // The demo prints its own summary; set LOG_LEVEL=info to see request logs.
    LOG_LEVEL: process.env.LOG_LEVEL || "error",
  };
  const config = loadConfig(env);
  const base = config.baseUrl.toString();
  const setup = demoIdpSetup(base);
  const idp = await startDevIdp({ port: idpPort, clients: setup.clients, users: setup.users });
  let ctx: Awaited<ReturnType<typeof createContext>> | undefined;
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let seeded = false;
  try {
    ctx = await createContext(config);
    if (!(await findOrganizationBySlug(ctx.store.db, DEMO_ORG.slug))) {
      const { organization } = await createOrganizationWithAdmin(ctx, {
        ...DEMO_ORG,
        adminName: "Ada Admin",
      });
      // acme.test cannot publish a DNS record: the demo vouches for it as the operator would
      // (`gatehouse domain add --org acme --domain acme.test --verified`), audited as such.
      await addDomain(ctx, { organizationId: organization.id, actorUserId: null }, "acme.test", {
        operatorVerified: true,
      });
      seeded = true;
    }
    app = await buildApp(ctx);
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app?.close();
    await idp.close();
    await ctx?.store.close();
    throw error;
  }
  const sample = await startSampleApplication(ctx, Number(values["app-port"] ?? 3002)).catch(
    async (error: unknown) => {
      await app?.close();
      await idp.close();
      await ctx?.store.close();
      throw error;
    },
  );
  const running = { app, ctx, stopMaintenance: startMaintenance(ctx) };

  process.stdout.write(
    demoBanner({
      base,
      idpIssuer: idp.issuer,
      databaseUrl: maskDatabaseUrl(config.databaseUrl),
      seeded,
      admin: { email: DEMO_ORG.adminEmail, password: DEMO_ORG.adminPassword },
      okta: setup.clients[0],
      users: setup.users,
      sampleUrl: sample.url,
    }),
  );
  await waitForShutdown(async () => {
    running.stopMaintenance();
    await sample.close();
    await running.app.close();
    await idp.close();
    await running.ctx.store.close();
  });
  return 0;
}
