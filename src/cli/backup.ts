import { loadConfig } from "../config.js";
import { GatehouseError } from "../errors.js";
import { backupSqlite } from "../store/backup.js";
import { RestoreRefused, restoreSqlite } from "../store/restore.js";
import { help, parseOptions, required } from "./options.js";

const USAGE = `Usage: gatehouse backup --to <file>

Writes a consistent copy of the SQLite database (GATEHOUSE_DATABASE_URL) to a new file while
Gatehouse keeps running, with SQLite's online backup API. To restore, stop Gatehouse and run
"gatehouse restore --from <file>". By hand: stop Gatehouse, delete the database's -wal and -shm
files (gatehouse.db-wal, gatehouse.db-shm: left behind by a crash or kill -9, SQLite would replay
them onto the copy), then put the copy in place of gatehouse.db (or point GATEHOUSE_DATABASE_URL
at it, sqlite:<file>).

The secret key is not in the backup: keep GATEHOUSE_SECRET_KEY (or the data folder's
secret.key) safe separately; without it the client secrets in the backup cannot be decrypted.

On PostgreSQL, use pg_dump instead; this command prints how.
  --to   the file to write; it must not exist yet
`;

export async function runBackup(args: string[]): Promise<number> {
  const values = parseOptions(args, { to: { type: "string" } });
  if (values.help) return help(USAGE);
  const to = required(values, "to", USAGE);
  const config = loadConfig();
  if (!config.databaseUrl.startsWith("sqlite:")) {
    process.stderr.write(postgresAdvice(config.databaseUrl));
    return 1;
  }
  if (config.databaseUrl === "sqlite::memory:") {
    throw new GatehouseError("VALIDATION_FAILED", "An in-memory database cannot be backed up.");
  }
  try {
    const report = await backupSqlite(config.databaseUrl, to);
    process.stdout.write(
      `Backed up ${config.databaseUrl} to ${report.file} (${report.pages} pages). Keep the secret key separately.\n`,
    );
    return 0;
  } catch (error) {
    throw new GatehouseError("CONFLICT", `Backup failed: ${(error as Error).message}`, { cause: error });
  }
}

const RESTORE_USAGE = `Usage: gatehouse restore --from <file>

Puts a copy written by "gatehouse backup" in place of the SQLite database
(GATEHOUSE_DATABASE_URL). Stop Gatehouse first: restore refuses while the database is open.

It checks the copy (SQLite's integrity check, Gatehouse's migrations), keeps the current
database as <database>.before-restore-<time>, deletes its leftover -wal and -shm files (after a
crash SQLite would replay them onto the copy), and renames the copy into place atomically.
Start Gatehouse afterwards with the secret key that was in use when the backup was taken.

On PostgreSQL, use pg_restore ("gatehouse backup" prints how).
  --from   the backup file to restore
`;

export function runRestore(args: string[]): number {
  const values = parseOptions(args, { from: { type: "string" } });
  if (values.help) return help(RESTORE_USAGE);
  const from = required(values, "from", RESTORE_USAGE);
  const config = loadConfig();
  if (!config.databaseUrl.startsWith("sqlite:")) {
    process.stderr.write(
      'gatehouse: the database is PostgreSQL; restore a pg_dump with pg_restore (run "gatehouse backup" for the commands).\n',
    );
    return 1;
  }
  if (config.databaseUrl === "sqlite::memory:") {
    throw new GatehouseError("VALIDATION_FAILED", "An in-memory database cannot be restored.");
  }
  try {
    const report = restoreSqlite(config.databaseUrl, from);
    const lines = [`Restored ${report.file} from ${from} (${report.migrations} migrations recorded).`];
    if (report.previous) lines.push(`The database that was there is kept as ${report.previous}.`);
    if (report.removed.length) lines.push(`Removed the leftover ${report.removed.join(", ")}.`);
    lines.push(
      "Start Gatehouse with the secret key (GATEHOUSE_SECRET_KEY or the data folder's secret.key) that was in use when the backup was taken: another key cannot open the client secrets and private keys in it.",
    );
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } catch (error) {
    if (error instanceof RestoreRefused) {
      throw new GatehouseError(
        error.reason === "in-use" ? "CONFLICT" : "VALIDATION_FAILED",
        `Restore refused: ${error.message}`,
        {
          cause: error,
        },
      );
    }
    throw new GatehouseError("CONFLICT", `Restore failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * pg_dump and pg_restore for this database. When the URL's options pin a search_path, Gatehouse
 * lives in that schema: pg_dump --schema dumps it with its CREATE SCHEMA, so a plain pg_restore
 * recreates it. (pg_restore --schema would only select objects, not create the schema, and
 * fail on an empty database.)
 */
export function postgresAdvice(databaseUrl: string): string {
  const schema = schemaOf(databaseUrl);
  const only = schema ? ` --schema=${schema}` : "";
  return [
    "gatehouse: the database is PostgreSQL; back it up with pg_dump, which takes a consistent snapshot while Gatehouse runs:",
    `  pg_dump --format=custom${only} --file=gatehouse.dump "$GATEHOUSE_DATABASE_URL"`,
    "and restore into an empty database with:",
    '  pg_restore --no-owner --dbname="$NEW_DATABASE_URL" gatehouse.dump',
    schema
      ? `The dump holds the schema ${schema} and creates it; point GATEHOUSE_DATABASE_URL at the new database with the same search_path option.`
      : "When Gatehouse lives in its own schema (a search_path in the URL's options), add --schema=<name> to pg_dump only: the dump then creates the schema, and pg_restore needs no --schema.",
    "Keep GATEHOUSE_SECRET_KEY with it.",
    "",
  ].join("\n");
}

/** The schema a `-c search_path=<name>` in the URL's options selects, if any. */
function schemaOf(databaseUrl: string): string | undefined {
  let options: string | null;
  try {
    options = new URL(databaseUrl).searchParams.get("options");
  } catch {
    return undefined;
  }
  const match = /(?:^|\s)(?:-c\s*|--)search_path=([^\s,]+)/.exec(options ?? "");
  const name = match?.[1]?.replace(/^"|"$/g, "");
  return name && name !== "public" && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) ? name : undefined;
}
