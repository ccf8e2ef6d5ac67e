import path from "node:path";
import type { Logger } from "pino";
import { type Config, ConfigError, maskDatabaseUrl, sqliteFile } from "../config.js";
import { SecretBox } from "../crypto/secret-box.js";
import { deriveKey, loadOrCreateKeyFile, parseSecretKey, type SecretKey } from "../crypto/secret-key.js";
import { GatehouseError } from "../errors.js";
import { SessionCache } from "../session/cache.js";
import { migrateToLatest, openStore, pingDatabase, type Store } from "../store/database.js";
import { sealLegacyIdTokens } from "../store/sessions.js";
import type { AppContext } from "./context.js";
import { createLogger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { signInAdapters } from "./sign-in-adapters.js";

export interface ContextOptions {
  log?: Logger;
  now?: () => number;
  /** Run migrations before returning (the default). */
  migrate?: boolean;
}

/** The key generated beside a SQLite database (created with a new database, never for an existing one). */
function keyBesideDatabase(config: Config, log: Logger): SecretKey {
  const file = sqliteFile(config.databaseUrl);
  if (!file) throw new ConfigError("GATEHOUSE_SECRET_KEY is required when the database is not a SQLite file");
  const loaded = loadOrCreateKeyFile(file);
  if (loaded.created)
    log.info(
      { dataDir: path.dirname(path.resolve(file)) },
      "generated a new secret key in the data folder (mode 0600); back it up with the database",
    );
  return loaded.key;
}

/**
 * The first query, whose failure names the setting to look at: a bare "connect ECONNREFUSED"
 * does not say which database was meant.
 */
export async function reachDatabase(store: Store, databaseUrl: string): Promise<void> {
  try {
    await pingDatabase(store);
  } catch (error) {
    throw new GatehouseError(
      "SERVICE_UNAVAILABLE",
      `the database at ${maskDatabaseUrl(databaseUrl)} (GATEHOUSE_DATABASE_URL) could not be reached: ${reason(error)}`,
      { cause: error },
    );
  }
}

/** openStore, whose SQLite file may fail to open (permissions, not a database), naming the setting. */
export function openDatabase(databaseUrl: string, options: Parameters<typeof openStore>[1]): Store {
  try {
    return openStore(databaseUrl, options);
  } catch (error) {
    throw new GatehouseError(
      "SERVICE_UNAVAILABLE",
      `the database at ${maskDatabaseUrl(databaseUrl)} (GATEHOUSE_DATABASE_URL) could not be opened: ${reason(error)}`,
      { cause: error },
    );
  }
}

/** pg reports a refused connection to every address of a host as an AggregateError without a message. */
function reason(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return reason(error.errors[0]);
  }
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}

/** Opens the database, loads the keys and wires the shared services, validating as it goes. */
export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const log = options.log ?? createLogger(config.logLevel);
  // loadConfig has checked every configured key; nothing is written before this point.
  const previous = config.previousSecretKeys.map((k, i) =>
    parseSecretKey(k, `GATEHOUSE_PREVIOUS_SECRET_KEYS (key ${i + 1})`),
  );
  const key = config.secretKey ? parseSecretKey(config.secretKey) : keyBesideDatabase(config, log);
  const box = new SecretBox(key, previous);
  if (config.allowPrivateIssuers) {
    log.warn(
      "GATEHOUSE_ALLOW_PRIVATE_ISSUERS=1: http: issuers and private or loopback addresses are allowed; never use this in production",
    );
  }
  if (config.trustProxy === "all") {
    log.warn(
      "GATEHOUSE_TRUST_PROXY=all: any peer may set X-Forwarded-For, and its right-most address is taken as the client; list the proxies' addresses instead unless only the proxy can reach Gatehouse",
    );
  }
  const metrics = createMetrics();
  const now = options.now ?? Date.now;
  const store = openDatabase(config.databaseUrl, {
    onStatement: metrics.countStatement,
    checkpointInBackground: true,
    poolSize: config.databasePoolSize,
    onIdleError: (error) =>
      log.warn({ err: error }, "lost an idle database connection; the next query opens another"),
    onCheckpointError: ({ message, stopped, repeats }) =>
      stopped
        ? log.error(
            { error: message },
            "SQLite's checkpoint worker stopped; commits checkpoint the WAL themselves from now on",
          )
        : log.warn(
            { error: message, ...(repeats > 0 ? { repeats } : {}) },
            "SQLite's background WAL checkpoint failed; past 20,000 pages of WAL a commit checkpoints it instead",
          ),
    onChangeFeedError: (error) =>
      log.warn(
        { err: error },
        "session-change notifications interrupted; session checks read the database until they are back",
      ),
  });
  try {
    await reachDatabase(store, config.databaseUrl);
    if (options.migrate !== false) {
      const { applied } = await migrateToLatest(store);
      if (applied.length > 0) log.info({ applied }, "database migrated");
      // Migration 0019's second half: it needs the key, which migrations do not have.
      const sealed = await sealLegacyIdTokens(store.db, (token, context) => box.seal(token, context), now());
      if (sealed > 0) log.info({ sealed }, "sealed the ID tokens of sessions from before the upgrade");
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    config,
    store,
    box,
    cookieSecret: deriveKey(key, "cookies"),
    previousCookieSecrets: previous.map((k) => deriveKey(k, "cookies")),
    log,
    metrics,
    sessionCache: new SessionCache(config.sessionCacheSize, () => {
      try {
        return store.sessionChanges();
      } catch (error) {
        log.warn({ err: error }, "session cache off: the database does not announce changes");
        return undefined;
      }
    }),
    lifecycle: { draining: false },
    signIn: signInAdapters(),
    now,
  };
}
