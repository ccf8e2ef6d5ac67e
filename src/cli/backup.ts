import { loadConfig } from "../config.js";
import { GatehouseError } from "../errors.js";
import { backupSqlite } from "../store/backup.js";
import { help, parseOptions, required } from "./options.js";

const USAGE = `Usage: gatehouse backup --to <file>

Writes a consistent copy of the SQLite database (GATEHOUSE_DATABASE_URL) to a new file while
Gatehouse keeps running, with SQLite's online backup API. To restore, stop Gatehouse and point
GATEHOUSE_DATABASE_URL at the copy (sqlite:<file>).

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
    process.stderr.write(
      [
        "gatehouse: the database is PostgreSQL; back it up with pg_dump, which takes a consistent snapshot while Gatehouse runs:",
        '  pg_dump --format=custom --file=gatehouse.dump "$GATEHOUSE_DATABASE_URL"',
        "and restore into an empty database with:",
        '  pg_restore --no-owner --dbname="$NEW_DATABASE_URL" gatehouse.dump',
        "(add --schema=<name> to both when Gatehouse lives in its own schema). Keep GATEHOUSE_SECRET_KEY with it.",
        "",
      ].join("\n"),
    );
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
