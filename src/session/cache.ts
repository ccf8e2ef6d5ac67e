import type { SessionChange, SessionChangeFeed } from "../store/session-changes.js";
import type { ActiveSession } from "../store/sessions.js";

/** A cached session, with the tick of its last move to the back of the eviction order. */
type CachedSession = ActiveSession & { recency: number };

/**
 * Validated sessions kept in memory, so that a check reads the database only when something
 * changed. Owned by the application context. Trusted only while the database's change feed is
 * live (PostgreSQL: this instance's notification connection is up); otherwise every check reads
 * the database. Bounded: least recently used entries leave first.
 *
 * A read that started before a change must not store what it read after the change was
 * announced: every change advances `#epoch`, and a read stores its result only if the epoch
 * it started under is still current.
 */
export class SessionCache {
  readonly #entries = new Map<string, CachedSession>();
  readonly #capacity: number;
  /**
   * A hit moves its entry to the back of the eviction order only when this many entries were
   * put or moved since it last was: deleting and re-inserting into a Map of up to 100,000
   * entries on every check leaves deleted slots that make the Map rebuild its table every so
   * often, and an entry among the newer half is far from being evicted anyway.
   */
  readonly #refreshAfter: number;
  #tick = 0;
  readonly #openFeed: () => SessionChangeFeed | undefined;
  #feed: SessionChangeFeed | undefined;
  #epoch = 0;

  /**
   * `openFeed` is called on first use, so a command that never checks a session (the CLI) never
   * opens PostgreSQL's notification connection. A capacity of 0 turns the cache off.
   */
  constructor(capacity: number, openFeed: () => SessionChangeFeed | undefined) {
    this.#capacity = capacity;
    this.#refreshAfter = Math.max(1, Math.floor(capacity / 2));
    this.#openFeed = capacity > 0 ? openFeed : () => undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** True while cached entries may answer a check. */
  trusted(): boolean {
    if (this.#capacity === 0) return false;
    if (!this.#feed) {
      this.#feed = this.#openFeed();
      if (!this.#feed) return false;
      this.#feed.subscribe((change) => this.#apply(change));
    }
    return this.#feed.live();
  }

  /** A live, unexpired session, or undefined to read the database. */
  get(idHash: string, now: number): ActiveSession | undefined {
    if (!this.trusted()) return undefined;
    const entry = this.#entries.get(idHash);
    if (!entry) return undefined;
    // Expiry is the cache's own check: purging expired rows announces nothing.
    if (entry.expiresAt <= now) {
      this.#entries.delete(idHash);
      return undefined;
    }
    if (this.#tick - entry.recency >= this.#refreshAfter) {
      this.#entries.delete(idHash);
      // Keyed again by the entry's own copy of the hash, not this request's: the table is long
      // lived, and a key from the request would keep a young string alive from it, for the
      // next garbage collection to copy and then promote.
      this.#entries.set(entry.idHash, entry);
      entry.recency = ++this.#tick;
    }
    return entry;
  }

  /** Taken before reading the database; `undefined` when the result must not be kept. */
  ticket(): number | undefined {
    return this.trusted() ? this.#epoch : undefined;
  }

  put(session: ActiveSession, ticket: number | undefined): void {
    if (ticket === undefined || ticket !== this.#epoch || !this.trusted()) return;
    // A session in an organization its user is no longer a member of is not kept: a new
    // membership is not announced (it changes no cached entry, since none has this shape).
    if (session.organizationId !== null && session.role === null) return;
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(session.idHash, {
      idHash: session.idHash,
      userId: session.userId,
      email: session.email,
      name: session.name,
      givenName: session.givenName ?? null,
      familyName: session.familyName ?? null,
      organizationId: this.#intern(session.organizationId),
      organizationSlug: this.#intern(session.organizationSlug),
      organizationName: this.#intern(session.organizationName),
      role: session.role,
      method: session.method,
      connectionId: this.#intern(session.connectionId),
      connectionName: this.#intern(session.connectionName),
      createdAt: session.createdAt,
      authenticatedAfresh: session.authenticatedAfresh,
      expiresAt: session.expiresAt,
      lastSeenAt: session.lastSeenAt,
      recency: ++this.#tick,
    });
  }

  // Each row read brings its own copy of the organization's and connection's strings; sessions
  // of one organization share one copy instead (about half of an entry's memory).
  readonly #strings = new Map<string, string>();

  #intern(value: string | null): string | null {
    if (value === null) return null;
    const known = this.#strings.get(value);
    if (known !== undefined) return known;
    if (this.#strings.size >= this.#capacity) this.#strings.clear();
    this.#strings.set(value, value);
    return value;
  }

  /** This instance recorded a use of the session. */
  seen(idHash: string, now: number): void {
    const entry = this.#entries.get(idHash);
    if (entry && entry.lastSeenAt < now) entry.lastSeenAt = now;
  }

  /**
   * Waits until the changes this instance has committed are in the cache: called after a
   * change and before answering, so that the next request, from whoever, sees it. PostgreSQL
   * announces a commit on another connection, which may be heard after the next request is.
   */
  async caughtUp(): Promise<void> {
    // Never opened: nothing is cached. A command-line process ends here.
    if (!this.#feed?.sync || !this.#feed.live()) return;
    await this.#feed.sync();
  }

  /** This instance ended a session: forget it now rather than when the announcement arrives. */
  forget(idHash: string): void {
    this.#epoch++;
    this.#entries.delete(idHash);
  }

  #apply(change: SessionChange): void {
    this.#epoch++;
    switch (change.kind) {
      case "sessions":
        for (const idHash of change.idHashes) this.#entries.delete(idHash);
        return;
      case "users": {
        // Rare (an email, a name or a role changed): a scan is cheaper than an index per user.
        const users = new Set(change.userIds);
        for (const [idHash, entry] of this.#entries) {
          if (users.has(entry.userId)) this.#entries.delete(idHash);
        }
        return;
      }
      case "all":
        this.#entries.clear();
        return;
    }
  }
}
