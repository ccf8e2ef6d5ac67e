import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { touchSessions } from "../store/sessions.js";

/** More than this many waiting uses are written by the next statement. */
const MAX_BATCH = 500;

interface Waiting {
  now: number;
  idleCutoff: number;
  waiters: { resolve: (live: boolean) => void; reject: (error: unknown) => void }[];
}

/**
 * Sessions' last uses, written like a group commit: the uses that arrive in the same turn of
 * the event loop go together, and while one statement is in flight, the uses that arrive wait
 * and go together in the next one. At low load each use is written within a turn; a busy
 * instance writes one statement (and one commit) for many sessions, instead of one each. The
 * batch records its latest time and applies its latest idle cut-off, so a session at the very
 * edge of the idle timeout may end a few milliseconds early, never late.
 */
class SessionTouches {
  readonly #db: Kysely<Database>;
  #waiting = new Map<string, Waiting>();
  #inFlight = false;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  touch(idHash: string, now: number, idleCutoff: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const waiting = this.#waiting.get(idHash);
      if (waiting) {
        waiting.now = Math.max(waiting.now, now);
        waiting.idleCutoff = Math.max(waiting.idleCutoff, idleCutoff);
        waiting.waiters.push({ resolve, reject });
      } else {
        this.#waiting.set(idHash, { now, idleCutoff, waiters: [{ resolve, reject }] });
      }
      if (!this.#inFlight) {
        // The first use waits for the rest of this turn of the event loop: on SQLite, whose
        // writes run synchronously, nothing is ever in flight to wait behind, and the checks
        // that arrived together would otherwise write (and commit) one statement each.
        this.#inFlight = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#waiting.size > 0) {
        const batch = [...this.#waiting].slice(0, MAX_BATCH);
        for (const [idHash] of batch) this.#waiting.delete(idHash);
        let now = 0;
        let idleCutoff = 0;
        for (const [, waiting] of batch) {
          now = Math.max(now, waiting.now);
          idleCutoff = Math.max(idleCutoff, waiting.idleCutoff);
        }
        try {
          const live = await touchSessions(
            this.#db,
            batch.map(([idHash]) => idHash),
            now,
            idleCutoff,
          );
          for (const [idHash, waiting] of batch)
            for (const waiter of waiting.waiters) waiter.resolve(live.has(idHash));
        } catch (error) {
          for (const [, waiting] of batch) for (const waiter of waiting.waiters) waiter.reject(error);
        }
      }
    } finally {
      this.#inFlight = false;
    }
  }
}

const byDatabase = new WeakMap<Kysely<Database>, SessionTouches>();

/**
 * Records a use of the session through its database's batch (see `SessionTouches`); true when
 * the session is still live, as `touchSession` decides.
 */
export function touchSessionBatched(
  db: Kysely<Database>,
  idHash: string,
  now: number,
  idleCutoff: number,
): Promise<boolean> {
  let touches = byDatabase.get(db);
  if (!touches) {
    touches = new SessionTouches(db);
    byDatabase.set(db, touches);
  }
  return touches.touch(idHash, now, idleCutoff);
}
