import type { Provider } from "oidc-provider";
import type { AppContext } from "../server/context.js";
import { loadOidcProvider } from "../server/oidc-provider-module.js";
import { queueProviderLogouts, startBackchannelDelivery } from "./backchannel.js";
import { providerConfiguration, providerRoutes } from "./configuration.js";
import { logoutThroughGatehouse } from "./logout.js";
import { pageHeadersAt } from "./pages.js";
import { ensureSigningKey, type KeySet, loadKeySet } from "./signing-keys.js";

/** How often an instance looks for keys another instance (or `gatehouse keys rotate`) added. */
const KEY_REFRESH_MS = 30_000;

/**
 * Gatehouse's OpenID Provider. oidc-provider takes its keys at construction, and holds no
 * other state (everything is in the database), so a changed key set is a new Provider: built
 * when a rotated key is published and again when it starts signing.
 */
export class OpenIdProvider {
  #current: Provider;
  #keySet: KeySet;
  #timer: NodeJS.Timeout | undefined;
  #stopDelivery: (() => void) | undefined;
  readonly #app: AppContext;

  private constructor(app: AppContext, provider: Provider, keySet: KeySet) {
    this.#app = app;
    this.#current = provider;
    this.#keySet = keySet;
  }

  static async start(app: AppContext): Promise<OpenIdProvider> {
    await ensureSigningKey(app);
    const keySet = await loadKeySet(app);
    const handle = new OpenIdProvider(app, await build(app, keySet), keySet);
    handle.#timer = setInterval(() => {
      handle
        .refresh()
        .catch((error: unknown) => app.log.warn({ err: error }, "reloading signing keys failed"));
    }, KEY_REFRESH_MS);
    handle.#timer.unref();
    return handle;
  }

  get provider(): Provider {
    const switchAt = this.#keySet.nextSwitchAt;
    // A pending key's time has come: rebuild in the background, serve with the old set meanwhile.
    if (switchAt !== undefined && this.#app.now() >= switchAt) {
      this.#keySet = { ...this.#keySet, nextSwitchAt: undefined };
      void this.refresh().catch((error: unknown) =>
        this.#app.log.warn({ err: error }, "switching signing keys failed"),
      );
    }
    return this.#current;
  }

  get signingKid(): string {
    return this.#keySet.signingKid;
  }

  /** Reloads the published keys; rebuilds the provider when they changed. */
  async refresh(): Promise<void> {
    const keySet = await loadKeySet(this.#app);
    const before = this.#keySet.keys.map((key) => key.kid).join(" ");
    const after = keySet.keys.map((key) => key.kid).join(" ");
    if (before === after && keySet.nextSwitchAt === this.#keySet.nextSwitchAt) return;
    this.#current = await build(this.#app, keySet);
    this.#keySet = keySet;
    this.#app.log.info({ signingKid: keySet.signingKid }, "OpenID Provider keys reloaded");
  }

  /** Starts delivering queued back-channel logouts from this instance. */
  startDelivery(): void {
    this.stopDelivery();
    this.#stopDelivery = startBackchannelDelivery(this.#app, this);
  }

  /** Stops the delivery loop (tests deliver by hand, deterministically). */
  stopDelivery(): void {
    this.#stopDelivery?.();
    this.#stopDelivery = undefined;
  }

  close(): void {
    clearInterval(this.#timer);
    this.stopDelivery();
  }
}

async function build(app: AppContext, keySet: KeySet): Promise<Provider> {
  const { default: ProviderClass, interactionPolicy } = await loadOidcProvider();
  const issuer = app.config.baseUrl.toString().replace(/\/$/, "");
  const provider = new ProviderClass(issuer, providerConfiguration(app, keySet, interactionPolicy));
  // Endpoints in discovery derive from the request's host and scheme; Gatehouse sets both from
  // GATEHOUSE_BASE_URL before a request reaches the provider, so it trusts these headers.
  provider.proxy = true;
  provider.use(logoutThroughGatehouse(app));
  queueProviderLogouts(app, provider);
  provider.use(pageHeadersAt(providerRoutes.authorization));
  provider.on("server_error", (_ctx, error) =>
    app.log.error({ err: error }, "OpenID Provider internal error"),
  );
  return provider;
}
