import type { AppContext } from "../../src/server/context.js";
import { SessionCache } from "../../src/session/cache.js";
import type { SessionChange, SessionChangeFeed } from "../../src/store/session-changes.js";

export interface HeldAnnouncements {
  /** Changes the database announced that the cache has not heard yet. */
  readonly withheld: number;
  /** How many changes a `sync` brought to the cache. */
  readonly broughtBySync: number;
}

/**
 * Gives the instance a session cache that hears the database's announcements only when it asks
 * to catch up (`sync`), as PostgreSQL's arrive whenever the notification connection is read:
 * possibly after the next request. Call before the first request.
 */
export function holdAnnouncements(ctx: AppContext): HeldAnnouncements {
  const held: SessionChange[] = [];
  const listeners = new Set<(change: SessionChange) => void>();
  let inner: SessionChangeFeed | undefined;
  let broughtBySync = 0;
  const feed: SessionChangeFeed = {
    live: () => inner?.live() ?? false,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async sync() {
      await inner?.sync?.();
      for (const change of held.splice(0)) {
        broughtBySync++;
        for (const listener of listeners) listener(change);
      }
    },
    close: async () => undefined,
  };
  ctx.sessionCache = new SessionCache(1000, () => {
    inner = ctx.store.sessionChanges();
    inner.subscribe((change) => held.push(change));
    return feed;
  });
  return {
    get withheld() {
      return held.length;
    },
    get broughtBySync() {
      return broughtBySync;
    },
  };
}
