import type SqliteDatabase from "better-sqlite3";
import pg from "pg";

/**
 * What changed in the data a session check returns, as announced by the database itself
 * (PostgreSQL triggers from migration 0008, SQLite triggers installed here): sessions by id
 * hash, users by id (their email, name, or a role), or everything.
 */
export type SessionChange =
  | { kind: "sessions"; idHashes: string[] }
  | { kind: "users"; userIds: string[] }
  | { kind: "all" };

/**
 * A stream of every committed change to session data, from this instance and every other one.
 * `live()` is false whenever a change might be missed (PostgreSQL: the notification connection
 * is down); a cache must then read the database instead. Losing and regaining the stream each
 * announce `all`.
 */
export interface SessionChangeFeed {
  live(): boolean;
  subscribe(listener: (change: SessionChange) => void): () => void;
  /**
   * Told that the database answers again (PostgreSQL: the pool has just connected): a feed
   * waiting to reconnect tries at once rather than when its backoff ends.
   */
  wake?(): void;
  /**
   * Resolves once every change committed before the call has reached the subscribers, so that
   * an instance answers after its own change is in its cache.
   */
  sync?(): Promise<void>;
  close(): Promise<void>;
}

class Listeners {
  readonly #listeners = new Set<(change: SessionChange) => void>();

  add(listener: (change: SessionChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(change: SessionChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}

export function parseSessionChange(payload: string): SessionChange {
  if (payload.startsWith("s:")) return { kind: "sessions", idHashes: payload.slice(2).split(",") };
  if (payload.startsWith("u:")) return { kind: "users", userIds: payload.slice(2).split(",") };
  return { kind: "all" };
}

const SQLITE_FUNCTION = "gh_session_data_changed";

// Connection-local (temp) triggers: they exist only on this process's connection, so another
// tool writing the file (the CLI, the sqlite3 shell) never needs our function. What such a
// writer changes is caught by `data_version` instead.
const SQLITE_TRIGGERS = [
  `create temp trigger if not exists gh_sessions_updated after update on main.sessions
   when old.revoked_at is not new.revoked_at or old.expires_at is not new.expires_at
     or old.user_id is not new.user_id or old.organization_id is not new.organization_id
     or old.connection_id is not new.connection_id or old.method is not new.method
   begin select ${SQLITE_FUNCTION}('s', old.id_hash); end`,
  `create temp trigger if not exists gh_sessions_deleted after delete on main.sessions
   when old.revoked_at is null
   begin select ${SQLITE_FUNCTION}('s', old.id_hash); end`,
  `create temp trigger if not exists gh_users_updated after update on main.users
   when old.email is not new.email or old.name is not new.name
   begin select ${SQLITE_FUNCTION}('u', old.id); end`,
  `create temp trigger if not exists gh_users_deleted after delete on main.users
   begin select ${SQLITE_FUNCTION}('u', old.id); end`,
  `create temp trigger if not exists gh_memberships_updated after update on main.memberships
   when old.role is not new.role
   begin select ${SQLITE_FUNCTION}('u', old.user_id); end`,
  `create temp trigger if not exists gh_memberships_deleted after delete on main.memberships
   begin select ${SQLITE_FUNCTION}('u', old.user_id); end`,
  `create temp trigger if not exists gh_organizations_updated after update on main.organizations
   when old.name is not new.name or old.slug is not new.slug
   begin select ${SQLITE_FUNCTION}('*', null); end`,
  `create temp trigger if not exists gh_organizations_deleted after delete on main.organizations
   begin select ${SQLITE_FUNCTION}('*', null); end`,
  `create temp trigger if not exists gh_connections_updated after update on main.connections
   when old.name is not new.name
   begin select ${SQLITE_FUNCTION}('*', null); end`,
  `create temp trigger if not exists gh_connections_deleted after delete on main.connections
   begin select ${SQLITE_FUNCTION}('*', null); end`,
];

/**
 * How long a read of SQLite's `data_version` answers for. Reading it is a statement of its own,
 * as costly as the rest of a cached session check; under load, checks within this window share
 * one read. A write by another process (the CLI signing people out) is therefore seen at most
 * this late, far inside the 100 ms that instances sharing PostgreSQL are held to.
 */
export const SQLITE_DATA_VERSION_TTL_MS = 10;

/**
 * SQLite: one process owns the database, so its own writes are announced synchronously by
 * triggers as they happen (inside the writing transaction: a rollback only costs a cache
 * miss). Writes by another process show as a new `data_version`, which empties the cache.
 */
export function sqliteSessionChanges(
  sqlite: SqliteDatabase.Database,
  clock: () => number = performance.now.bind(performance),
): SessionChangeFeed {
  const listeners = new Listeners();
  sqlite.function(SQLITE_FUNCTION, { deterministic: false }, (kind: unknown, id: unknown) => {
    if (kind === "s" && typeof id === "string") listeners.emit({ kind: "sessions", idHashes: [id] });
    else if (kind === "u" && typeof id === "string") listeners.emit({ kind: "users", userIds: [id] });
    else listeners.emit({ kind: "all" });
    return null;
  });
  for (const statement of SQLITE_TRIGGERS) sqlite.exec(statement);
  const dataVersion = sqlite.prepare("pragma data_version").pluck();
  let seen = dataVersion.get();
  let readAt = clock();
  const readDataVersion = (now: number) => {
    readAt = now;
    const version = dataVersion.get();
    if (version !== seen) {
      seen = version;
      listeners.emit({ kind: "all" });
    }
  };
  return {
    live() {
      const now = clock();
      if (now - readAt >= SQLITE_DATA_VERSION_TTL_MS) readDataVersion(now);
      return true;
    },
    subscribe: (listener) => listeners.add(listener),
    // This process's own writes are announced already; another process's are seen now.
    sync: async () => readDataVersion(clock()),
    close: async () => undefined,
  };
}

export interface PostgresFeedOptions {
  /** Told when the notification connection fails; the feed is not live until it is back. */
  onError?: (error: Error) => void;
  /** First delay before reconnecting; doubles up to half a second. */
  reconnectDelayMs?: number;
}

const HEARTBEAT_MS = 5000;
// Short: while the feed is down every session check reads the database, so after a restart the
// cache should be trusted again within moments of the database answering. An attempt against a
// server that is down costs one refused connection.
const MAX_RECONNECT_DELAY_MS = 500;
// A sync marker slower than this means the notification connection is stuck; the heartbeat will
// find it, and in the meantime the caller must not wait on it.
const SYNC_TIMEOUT_MS = 1000;

/**
 * PostgreSQL: a dedicated connection LISTENs to the schema's channel, on which migration
 * 0008's triggers announce every committed change. While that connection is down nothing
 * guarantees a change is heard, so the feed is not live; it reconnects with backoff and
 * announces `all` when it is back, since changes in between were missed. A heartbeat finds a
 * connection that died without a word (a network cut).
 *
 * `sync()` sends a marker on a channel only this connection listens to. PostgreSQL delivers
 * notifications in commit order, so when the marker arrives, every change committed before it
 * was sent has been announced.
 */
export function postgresSessionChanges(
  databaseUrl: string,
  options: PostgresFeedOptions = {},
): SessionChangeFeed {
  const listeners = new Listeners();
  const firstDelay = options.reconnectDelayMs ?? 50;
  let delay = firstDelay;
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let syncChannel = "";
  let syncsSent = 0;
  const syncsWaiting = new Map<number, () => void>();

  const syncedUpTo = (marker: number) => {
    for (const [sent, resolve] of syncsWaiting) {
      if (sent > marker) break;
      syncsWaiting.delete(sent);
      resolve();
    }
  };

  const lost = (lostClient: pg.Client, error?: Error) => {
    if (lostClient !== client) return;
    client = undefined;
    live = false;
    clearInterval(heartbeat);
    listeners.emit({ kind: "all" });
    // Emptied and untrusted until the connection is back: nothing stale is served meanwhile.
    syncedUpTo(Number.POSITIVE_INFINITY);
    if (error) options.onError?.(error);
    lostClient.end().catch(() => undefined);
    schedule();
  };

  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
  };

  const connect = async () => {
    const candidate = new pg.Client({ connectionString: databaseUrl, keepAlive: true });
    candidate.on("error", (error) => lost(candidate, error));
    candidate.on("end", () => lost(candidate));
    candidate.on("notification", (message) => {
      if (candidate !== client || message.payload === undefined) return;
      if (message.channel === syncChannel) syncedUpTo(Number(message.payload));
      else listeners.emit(parseSessionChange(message.payload));
    });
    try {
      await candidate.connect();
      const { rows } = await candidate.query<{ channel: string; pid: number }>(
        "select gh_session_changes_channel(current_schema()) as channel, pg_backend_pid() as pid",
      );
      const channel = rows[0]?.channel;
      if (!channel) throw new Error("no schema to listen to");
      // Named after the channel, so an operator (or a test) can tell which listener is whose.
      await candidate.query(`set application_name = 'gatehouse listener ${channel}'`);
      await candidate.query(`listen "${channel}"`);
      // A backend's process id is unique on the server while it lives: no one else hears this.
      syncChannel = `gh_sync_${rows[0]?.pid}`;
      await candidate.query(`listen "${syncChannel}"`);
    } catch (error) {
      candidate.removeAllListeners("end");
      candidate.on("error", () => undefined);
      candidate.end().catch(() => undefined);
      options.onError?.(error as Error);
      schedule();
      return;
    }
    if (closed) {
      await candidate.end().catch(() => undefined);
      return;
    }
    client = candidate;
    delay = firstDelay;
    // Whatever changed while nobody listened is unknown: start over, then trust.
    listeners.emit({ kind: "all" });
    live = true;
    heartbeat = setInterval(() => {
      let answered = false;
      candidate.query("select 1").then(
        () => {
          answered = true;
        },
        () => undefined,
      );
      setTimeout(() => {
        if (!answered) lost(candidate, new Error("the notification connection stopped answering"));
      }, HEARTBEAT_MS).unref();
    }, HEARTBEAT_MS);
    heartbeat.unref();
  };

  void connect();
  return {
    live: () => live,
    subscribe: (listener) => listeners.add(listener),
    sync() {
      const current = client;
      // Not live: the cache reads the database anyway, and is emptied when the feed is back.
      if (!live || !current) return Promise.resolve();
      const marker = ++syncsSent;
      return new Promise<void>((resolve) => {
        const timeout = setTimeout(() => {
          if (!syncsWaiting.delete(marker)) return;
          // What this marker was to confirm is unknown: start over rather than trust.
          listeners.emit({ kind: "all" });
          resolve();
        }, SYNC_TIMEOUT_MS);
        timeout.unref();
        syncsWaiting.set(marker, () => {
          clearTimeout(timeout);
          resolve();
        });
        current.query("select pg_notify($1, $2)", [syncChannel, String(marker)]).catch(() => {
          // The connection failed: `lost` resolves the waiters.
        });
      });
    },
    wake() {
      if (closed || !retry) return;
      clearTimeout(retry);
      retry = undefined;
      delay = firstDelay;
      void connect();
    },
    async close() {
      closed = true;
      live = false;
      syncedUpTo(Number.POSITIVE_INFINITY);
      clearTimeout(retry);
      clearInterval(heartbeat);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
