import { createApplication, deleteApplication, listApplications } from "../provider/applications.js";
import type { AppContext } from "../server/context.js";

export const SAMPLE_APP_NAME = "Acme SaaS (sample)";

interface SampleApp {
  url: string;
  close(): Promise<void>;
}

interface SampleModule {
  startSaasApp(options: {
    gatehouseUrl: string;
    clientId: string;
    clientSecret: string | undefined;
    port: number;
  }): Promise<SampleApp>;
}

/**
 * The demo's third part: examples/saas-app, registered afresh at each start (its secret is
 * shown only once, so it is not kept between runs) and started next to Gatehouse.
 */
export async function startSampleApplication(ctx: AppContext, port: number): Promise<SampleApp> {
  for (const app of await listApplications(ctx)) {
    if (app.name === SAMPLE_APP_NAME) await deleteApplication(ctx, app.clientId);
  }
  const base = `http://localhost:${port}`;
  const { application, clientSecret } = await createApplication(ctx, {
    name: SAMPLE_APP_NAME,
    redirectUris: [`${base}/callback`],
    postLogoutRedirectUris: [`${base}/`],
    backchannelLogoutUri: `${base}/backchannel-logout`,
  });
  // From src/cli and dist/cli alike, the examples folder is two levels up.
  const sample = (await import(
    new URL("../../examples/saas-app/server.js", import.meta.url).href
  )) as SampleModule;
  return sample.startSaasApp({
    gatehouseUrl: ctx.config.baseUrl.toString(),
    clientId: application.clientId,
    clientSecret,
    port,
  });
}
