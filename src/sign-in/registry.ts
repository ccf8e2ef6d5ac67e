import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import type { Connection } from "../store/connections.js";
import type { SignInAdapter, SignInAdapterFactory } from "./adapter.js";

/**
 * The protocols this deployment signs in with, by name (src/server/sign-in-adapters.ts lists
 * them). Each adapter is made on first use, once per application context.
 */
export class SignInAdapters {
  readonly #factories: Map<string, SignInAdapterFactory>;
  readonly #made = new Map<string, SignInAdapter>();

  constructor(factories: Readonly<Record<string, SignInAdapterFactory>>) {
    this.#factories = new Map(Object.entries(factories));
  }

  /** Adds or replaces a protocol (tests register their own). */
  register(protocol: string, factory: SignInAdapterFactory): void {
    this.#factories.set(protocol, factory);
    this.#made.delete(protocol);
  }

  /** The adapter named `protocol`; a name no adapter has (a transaction of a removed protocol) is refused. */
  get(ctx: AppContext, protocol: string): SignInAdapter {
    const made = this.#made.get(protocol);
    if (made) return made;
    const factory = this.#factories.get(protocol);
    if (!factory) {
      throw new GatehouseError("SSO_STATE_UNKNOWN", "This sign-in is not known.", {
        detail: `no sign-in adapter for protocol ${JSON.stringify(protocol.slice(0, 50))}`,
        check: { check: "state", expected: "a known protocol", received: protocol.slice(0, 50) },
      });
    }
    const adapter = factory(ctx);
    if (adapter.protocol !== protocol) {
      throw new GatehouseError(
        "INTERNAL",
        `adapter registered as ${protocol} calls itself ${adapter.protocol}`,
      );
    }
    this.#made.set(protocol, adapter);
    return adapter;
  }

  /** The adapter of a connection's protocol. */
  forConnection(ctx: AppContext, connection: Connection): SignInAdapter {
    return this.get(ctx, connection.protocol);
  }
}
