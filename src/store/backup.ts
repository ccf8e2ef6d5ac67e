import { existsSync } from "node:fs";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";

export interface BackupReport {
  file: string;
  pages: number;
}

/**
 * Copies a SQLite database with SQLite's online backup API: a consistent snapshot taken while
 * Gatehouse keeps serving. Copying the file itself is not safe with write-ahead logging, since
 * committed pages may still sit in the `-wal` file.
 */
export async function backupSqlite(databaseUrl: string, to: string): Promise<BackupReport> {
  const source = databaseUrl.slice("sqlite:".length);
  const target = path.resolve(to);
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  if (existsSync(target)) throw new Error(`${target} exists already; choose a new file`);
  const db = new SqliteDatabase(source, { readonly: true, fileMustExist: true });
  try {
    // A busy writer may hold the database for a moment; backup() retries page by page.
    db.pragma("busy_timeout = 5000");
    const { totalPages } = await db.backup(target);
    return { file: target, pages: totalPages };
  } finally {
    db.close();
  }
}
