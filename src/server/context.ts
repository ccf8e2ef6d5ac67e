import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { SecretBox } from "../crypto/secret-box.js";
import type { SessionCache } from "../session/cache.js";
import type { SignInAdapters } from "../sign-in/registry.js";
import type { Store } from "../store/database.js";
import type { Metrics } from "./metrics.js";

/** Everything a route needs, built once at start-up and passed down explicitly. */
export interface AppContext {
  config: Config;
  store: Store;
  box: SecretBox;
  /** Key for signed cookies (login-transaction binding, CSRF secret). */
  cookieSecret: Buffer;
  /**
   * Cookie keys derived from GATEHOUSE_PREVIOUS_SECRET_KEYS: cookies signed before a secret-key
   * rotation are still accepted until they expire; new cookies are signed with `cookieSecret`.
   */
  previousCookieSecrets: Buffer[];
  log: Logger;
  metrics: Metrics;
  /** Validated sessions, so that a session check reads the database only after a change. */
  sessionCache: SessionCache;
  /** Set when graceful shutdown begins: /readyz answers 503 from then on, before the listener closes. */
  lifecycle: { draining: boolean };
  /** The sign-in protocols (src/server/sign-in-adapters.ts); tests may register their own. */
  signIn: SignInAdapters;
  /** Epoch milliseconds; injected so tests can move time without sleeping. */
  now: () => number;
}
