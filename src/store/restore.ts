import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";

export interface RestoreReport {
  /** The database file now holding the backup. */
  file: string;
  /** Where the database that was there before now lives (a consistent copy), if there was one. */
  previous: string | undefined;
  /** Leftover write-ahead log files removed (`-wal`, `-shm`). */
  removed: string[];
  /** Migrations the backup had applied. */
  migrations: number;
}

export class RestoreRefused extends Error {
  override readonly name = "RestoreRefused";
  constructor(
    readonly reason: "not-gatehouse" | "in-use" | "missing",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Puts a `gatehouse backup` copy in place of the SQLite database, safely:
 *
 * 1. the backup is copied next to the database (same folder, so the final rename is atomic)
 *    and checked there: SQLite's integrity check and Gatehouse's migrations table;
 * 2. the current database must not be open anywhere: a running Gatehouse holds a shared lock on
 *    the database file for as long as it has it open (write-ahead logging), so an exclusive lock
 *    taken without waiting proves nobody does;
 * 3. the current database, with whatever its write-ahead log still held, is kept as a consistent
 *    copy `<file>.before-restore-<time>`;
 * 4. its `-wal` and `-shm` files go: left behind (after a crash or kill -9), SQLite would replay
 *    them onto the restored copy, bringing back later writes or mixing pages of two databases;
 * 5. the checked copy is fsynced and renamed over the database, then the folder is fsynced.
 */
export function restoreSqlite(databaseUrl: string, from: string, now = new Date()): RestoreReport {
  const file = path.resolve(databaseUrl.slice("sqlite:".length));
  const source = path.resolve(from);
  if (!existsSync(source)) throw new RestoreRefused("missing", `no backup at ${source}`);
  if (source === file) throw new RestoreRefused("not-gatehouse", `${source} is the database itself`);
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const staged = `${file}.restore-${stamp}.tmp`;
  const previous = existsSync(file) ? `${file}.before-restore-${stamp}` : undefined;
  if (previous && existsSync(previous)) throw new RestoreRefused("in-use", `${previous} exists already`);

  copyFileSync(source, staged);
  try {
    const migrations = checkGatehouseDatabase(staged, source);
    if (previous) keepPrevious(file, previous);
    const removed: string[] = [];
    for (const suffix of ["-wal", "-shm", "-journal"]) {
      if (existsSync(file + suffix)) {
        rmSync(file + suffix);
        removed.push(file + suffix);
      }
    }
    if (previous) chmodSync(staged, statSync(previous).mode & 0o777);
    fsyncFile(staged);
    renameSync(staged, file);
    fsyncFile(path.dirname(file));
    return { file, previous, removed, migrations };
  } finally {
    rmSync(staged, { force: true });
    for (const suffix of ["-wal", "-shm"]) rmSync(staged + suffix, { force: true });
  }
}

/** Opens the staged copy on its own (exclusive: no `-shm` is created) and checks it is ours. */
function checkGatehouseDatabase(staged: string, source: string): number {
  let db: SqliteDatabase.Database;
  try {
    db = new SqliteDatabase(staged, { fileMustExist: true });
  } catch (error) {
    throw new RestoreRefused(
      "not-gatehouse",
      `${source} is not a SQLite database (${(error as Error).message})`,
    );
  }
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    let integrity: unknown;
    try {
      integrity = db.pragma("integrity_check", { simple: true });
    } catch (error) {
      throw new RestoreRefused(
        "not-gatehouse",
        `${source} is not a SQLite database (${(error as Error).message})`,
      );
    }
    if (integrity !== "ok") {
      throw new RestoreRefused(
        "not-gatehouse",
        `${source} fails SQLite's integrity check: ${String(integrity)}`,
      );
    }
    const table = db
      .prepare("select name from sqlite_master where type = 'table' and name = 'kysely_migration'")
      .get();
    const migrations = table
      ? (db.prepare("select count(*) as n from kysely_migration").get() as { n: number }).n
      : 0;
    if (migrations === 0) {
      throw new RestoreRefused(
        "not-gatehouse",
        `${source} is not a Gatehouse database (no migrations recorded); restore a file written by gatehouse backup`,
      );
    }
    return migrations;
  } finally {
    db.close();
  }
}

/**
 * Takes the current database exclusively without waiting, or refuses: another connection (a
 * running Gatehouse, the sqlite3 shell) holds a shared lock on it while open. Then copies it,
 * with what its write-ahead log held, through the online backup API.
 */
function keepPrevious(file: string, previous: string): void {
  const db = new SqliteDatabase(file, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 0");
    // Exclusive locking mode in WAL: the first access takes an exclusive lock on the database
    // file and keeps it until close, and the wal-index lives in this process's memory.
    db.pragma("locking_mode = EXCLUSIVE");
    try {
      db.exec("BEGIN EXCLUSIVE; COMMIT");
    } catch (error) {
      if (
        (error as { code?: string }).code === "SQLITE_BUSY" ||
        (error as { code?: string }).code === "SQLITE_LOCKED"
      ) {
        throw new RestoreRefused(
          "in-use",
          `${file} is in use (a running Gatehouse, or another program has it open); stop it first`,
        );
      }
      throw error;
    }
    backupInto(db, previous);
  } finally {
    db.close();
  }
}

function backupInto(db: SqliteDatabase.Database, to: string): void {
  // db.backup() is asynchronous; VACUUM INTO writes a consistent copy synchronously while we
  // hold the lock.
  db.prepare("VACUUM INTO ?").run(to);
}

function fsyncFile(target: string): void {
  const fd = openSync(target, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
